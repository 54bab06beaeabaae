import type { WebSocket } from 'ws'
import type { MinedBlock } from '../chain/chain.ts'
import type { LatticeNode } from '../chain/node.ts'
import { data, formatBlock, paramList } from './codec.ts'
import { invalidParams, RpcCode, RpcError } from './errors.ts'
import { blockLogs, logCriteria } from './filters.ts'
import type { Handlers } from './types.ts'

interface Sub {
  ws: WebSocket
  stop(): void
}

/** eth_subscribe / eth_unsubscribe over WebSocket: newHeads, logs, newPendingTransactions. */
export function subscriptionMethods(node: LatticeNode): Handlers {
  const subs = new Map<string, Sub>()
  let next = 0n

  function notify(ws: WebSocket, id: string, result: unknown): void {
    if (ws.readyState !== ws.OPEN) return
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: id, result } }))
  }

  function register(ws: WebSocket, start: (id: string) => () => void): string {
    next++
    const id = `0x${next.toString(16).padStart(32, '0')}`
    const stop = start(id)
    subs.set(id, { ws, stop })
    ws.once('close', () => {
      stop()
      subs.delete(id)
    })
    return id
  }

  return {
    eth_subscribe: async (p, ctx) => {
      if (!ctx.ws) throw new RpcError(RpcCode.methodNotFound, 'notifications not supported: use a WebSocket connection')
      const ws = ctx.ws
      const [kind, arg] = paramList(p, 'eth_subscribe', 1, 2)
      if (kind === 'newHeads') {
        return register(ws, (id) => {
          const on = ({ block }: MinedBlock) => {
            const { transactions: _t, uncles: _u, size: _s, totalDifficulty: _d, ...header } = formatBlock(block, false)
            notify(ws, id, header)
          }
          node.on('block', on)
          return () => node.off('block', on)
        })
      }
      if (kind === 'logs') {
        const criteria = logCriteria((arg ?? {}) as Record<string, unknown>, 'filter', data)
        return register(ws, (id) => {
          const on = async ({ block }: MinedBlock) => {
            for (const log of await blockLogs(node.chain, block, criteria)) notify(ws, id, log)
          }
          node.on('block', on)
          return () => node.off('block', on)
        })
      }
      if (kind === 'newPendingTransactions') {
        return register(ws, (id) => {
          const on = (hash: string) => notify(ws, id, hash)
          node.on('pendingTransaction', on)
          return () => node.off('pendingTransaction', on)
        })
      }
      throw invalidParams(
        `unsupported subscription type ${JSON.stringify(kind)}: use newHeads, logs or newPendingTransactions`,
      )
    },
    eth_unsubscribe: async (p, ctx) => {
      const [id] = paramList(p, 'eth_unsubscribe', 1, 1)
      const sub = typeof id === 'string' ? subs.get(id) : undefined
      if (!sub || sub.ws !== ctx.ws) return false
      sub.stop()
      subs.delete(id as string)
      return true
    },
  }
}
