// The eth_* methods the Engine API specification has the authenticated port serve too (common.md, "Underlying
// protocol"): some consensus clients check the chain id, sync state or blocks through their Engine URL.
import type { LatticeNode } from '../chain/node.ts'
import { EngineError } from '../engine/errors.ts'
import type { EngineHandlers } from '../engine/methods/context.ts'
import { toRpcError } from '../rpc/errors.ts'
import { ethMethods } from '../rpc/eth.ts'
import { FilterManager } from '../rpc/filters.ts'

/** The specification's list. */
export const ENGINE_ETH_METHODS = [
  'eth_blockNumber',
  'eth_call',
  'eth_chainId',
  'eth_getCode',
  'eth_getBlockByHash',
  'eth_getBlockByNumber',
  'eth_getLogs',
  'eth_sendRawTransaction',
  'eth_syncing',
] as const

/** The node's own handlers for those methods, with its JSON-RPC error codes; `close` stops their filter upkeep. */
export function engineEthMethods(node: LatticeNode): { handlers: EngineHandlers; close(): void } {
  const filters = new FilterManager(node)
  const eth = ethMethods(node, filters, { devnet: false })
  const handlers: EngineHandlers = {}
  for (const name of ENGINE_ETH_METHODS) {
    const fn = eth[name]
    if (!fn) continue
    handlers[name] = async (params) => {
      try {
        return await fn(params, {})
      } catch (err) {
        const e = toRpcError(err)
        throw new EngineError('ENGINE_ETH', e.code, e.message)
      }
    }
  }
  return { handlers, close: () => filters.close() }
}
