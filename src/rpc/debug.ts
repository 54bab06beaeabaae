import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, concatBytes } from '@ethereumjs/util'
import type { LatticeNode } from '../chain/node.ts'
import type { StoredReceipt } from '../chain/receipts.ts'
import type { TraceOpts } from '../chain/trace.ts'
import { traceBlock, traceTransaction } from '../chain/trace.ts'
import { traceCall } from '../chain/trace-call.ts'
import { blockRef, callRequest, hash, paramList, stateOverrides } from './codec.ts'
import { invalidParams, RpcCode, RpcError } from './errors.ts'
import { resolveBlock } from './eth-extra.ts'
import type { Handlers } from './types.ts'

/** A receipt in its consensus encoding (EIP-2718 typed envelope after Berlin). */
export function encodeReceipt(r: StoredReceipt): Uint8Array {
  const payload = RLP.encode([
    r.root ?? (r.status === 1 ? Uint8Array.of(1) : new Uint8Array()),
    bigIntToUnpaddedBytes(r.cumulativeGasUsed),
    r.logsBloom,
    r.logs,
  ])
  return r.type === 0 ? payload : concatBytes(Uint8Array.of(r.type), payload)
}

/** Tracer options from a debug_trace* config object (geth's TraceConfig). */
export function traceOpts(v: unknown): TraceOpts {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v))
    throw invalidParams('invalid argument 1: expected a trace config object')
  const o = v as Record<string, unknown>
  const flag = (k: string) => {
    if (o[k] === undefined) return undefined
    if (typeof o[k] !== 'boolean') throw invalidParams(`invalid argument 1: ${k} must be a boolean`)
    return o[k] as boolean
  }
  if (o.tracer !== undefined && o.tracer !== null && o.tracer !== '') {
    if (o.tracer !== 'callTracer') {
      throw new RpcError(
        RpcCode.server,
        `tracer ${JSON.stringify(o.tracer)} not found: this node has callTracer and the struct logger`,
      )
    }
    const c = (o.tracerConfig ?? {}) as Record<string, unknown>
    return { tracer: 'callTracer', tracerConfig: { onlyTopCall: c.onlyTopCall === true, withLog: c.withLog === true } }
  }
  return {
    disableStack: flag('disableStack'),
    disableStorage: flag('disableStorage'),
    enableMemory: flag('enableMemory'),
    enableReturnData: flag('enableReturnData'),
  }
}

/** debug_* methods: raw encodings and transaction/block tracing (geth's shapes). */
export function debugMethods(node: LatticeNode): Handlers {
  const chain = node.chain

  async function blockFor(v: unknown): Promise<Block | undefined> {
    return resolveBlock(chain, blockRef(v, 'argument 0'))
  }

  return {
    debug_getRawBlock: async (p) => {
      const [b] = paramList(p, 'debug_getRawBlock', 1, 1)
      const block = await blockFor(b)
      if (!block) throw new RpcError(RpcCode.server, 'block not found')
      return bytesToHex(block.serialize())
    },
    debug_getRawHeader: async (p) => {
      const [b] = paramList(p, 'debug_getRawHeader', 1, 1)
      const block = await blockFor(b)
      if (!block) throw new RpcError(RpcCode.server, 'header not found')
      return bytesToHex(block.header.serialize())
    },
    debug_getRawReceipts: async (p) => {
      const [b] = paramList(p, 'debug_getRawReceipts', 1, 1)
      const block = await blockFor(b)
      if (!block) throw new RpcError(RpcCode.server, 'block not found')
      return (await chain.getReceipts(block.hash())).map((r) => bytesToHex(encodeReceipt(r)))
    },
    debug_getRawTransaction: async (p) => {
      const [h] = paramList(p, 'debug_getRawTransaction', 1, 1)
      const txHash = hash(h, 'argument 0')
      const loc = await chain.getTransaction(txHash)
      if (loc) return bytesToHex(loc.tx.serialize())
      const pending = node.pool.get(bytesToHex(txHash))
      return pending ? bytesToHex(pending.serialize()) : '0x'
    },

    debug_traceCall: async (p) => {
      const [c, b, cfg] = paramList(p, 'debug_traceCall', 1, 3)
      const req = callRequest(c, 'argument 0')
      const block = await resolveBlock(chain, blockRef(b, 'argument 1'))
      if (!block) throw new RpcError(RpcCode.server, 'header not found')
      const overrides = stateOverrides(
        (cfg as { stateOverrides?: unknown } | undefined)?.stateOverrides,
        'stateOverrides',
      )
      return traceCall(chain, req, block, traceOpts(cfg), overrides)
    },
    debug_traceTransaction: async (p) => {
      const [h, c] = paramList(p, 'debug_traceTransaction', 1, 2)
      return traceTransaction(chain, hash(h, 'argument 0'), traceOpts(c))
    },
    debug_traceBlockByNumber: async (p) => {
      const [b, c] = paramList(p, 'debug_traceBlockByNumber', 1, 2)
      const ref = blockRef(b, 'argument 0')
      const block = await resolveBlock(chain, ref)
      if (!block) {
        throw new RpcError(RpcCode.server, `block #${'number' in ref ? ref.number : String(b)} not found`)
      }
      return traceBlock(chain, block, traceOpts(c))
    },
    debug_traceBlockByHash: async (p) => {
      const [h, c] = paramList(p, 'debug_traceBlockByHash', 1, 2)
      const blockHash = hash(h, 'argument 0')
      const block = await chain.getBlockByHash(blockHash)
      if (!block) throw new RpcError(RpcCode.server, `block ${bytesToHex(blockHash)} not found`)
      return traceBlock(chain, block, traceOpts(c))
    },
  }
}
