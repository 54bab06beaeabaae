// The pool after the consensus client moves the head (geth's txpool reset): transactions of newly canonical
// blocks leave the pool, those of blocks reorged out come back unless the new branch includes them.
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import type { Chain } from './chain.ts'
import type { HeadChange } from './forkchoice.ts'
import type { TxPool } from './txpool.ts'

/** Bring `pool` in line with a head change. Must run inside `chain.exclusive` (reads head state). */
export async function reconcilePool(chain: Chain, pool: TxPool, change: HeadChange): Promise<void> {
  const included = new Set(change.adopted.flatMap((b) => b.transactions.map((tx) => bytesToHex(tx.hash()))))
  for (const h of included) pool.remove(h)
  // oldest first, so each sender's nonces come back in order
  for (const block of [...change.removed].reverse()) {
    for (const tx of block.transactions) {
      if (included.has(bytesToHex(tx.hash()))) continue
      try {
        const sender = tx.getSenderAddress()
        const acct = await chain.stateManager.getAccount(sender)
        pool.add(tx, sender.toString(), { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n })
      } catch {
        // no longer executable on the new head (nonce used, funds gone, pool full): dropped, as geth drops it
      }
    }
  }
  const nonces = new Map<string, bigint>()
  for (const s of pool.senders()) {
    nonces.set(s, (await chain.stateManager.getAccount(createAddressFromString(s)))?.nonce ?? 0n)
  }
  pool.prune((s) => nonces.get(s) ?? 0n)
}
