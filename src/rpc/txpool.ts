import type { TypedTransaction } from '@ethereumjs/tx'
import { toChecksumAddress } from '@ethereumjs/util'
import type { LatticeNode } from '../chain/node.ts'
import { address, formatTx, paramList, q } from './codec.ts'
import type { Handlers } from './types.ts'

/** txpool_* methods (geth's shapes: sender -> nonce -> tx). */
export function txpoolMethods(node: LatticeNode): Handlers {
  async function content() {
    const nonces = await node.poolNonces()
    return node.pool.content((s) => nonces.get(s) ?? 0n)
  }
  const shape = (m: Map<string, TypedTransaction[]>, fmt: (tx: TypedTransaction) => unknown) => {
    const out: Record<string, Record<string, unknown>> = {}
    for (const [sender, txs] of m) {
      // geth keys the map by checksummed address
      const key = toChecksumAddress(sender)
      out[key] = {}
      for (const tx of txs) out[key][tx.nonce.toString()] = fmt(tx)
    }
    return out
  }
  return {
    txpool_status: async () => {
      const { pending, queued } = await content()
      const count = (m: Map<string, TypedTransaction[]>) => [...m.values()].reduce((s, l) => s + l.length, 0)
      return { pending: q(count(pending)), queued: q(count(queued)) }
    },
    txpool_content: async () => {
      const { pending, queued } = await content()
      return { pending: shape(pending, (tx) => formatTx(tx)), queued: shape(queued, (tx) => formatTx(tx)) }
    },
    txpool_inspect: async () => {
      const { pending, queued } = await content()
      const summary = (tx: TypedTransaction) =>
        `${tx.to?.toString() ?? 'contract creation'}: ${tx.value} wei + ${tx.gasLimit} gas`
      return { pending: shape(pending, summary), queued: shape(queued, summary) }
    },
    txpool_contentFrom: async (p) => {
      const [a] = paramList(p, 'txpool_contentFrom', 1, 1)
      const sender = address(a, 'address').toString()
      const { pending, queued } = await content()
      const pick = (m: Map<string, TypedTransaction[]>) =>
        shape(new Map([...m].filter(([s]) => s === sender)), (tx) => formatTx(tx))[toChecksumAddress(sender)] ?? {}
      return { pending: pick(pending), queued: pick(queued) }
    },
  }
}
