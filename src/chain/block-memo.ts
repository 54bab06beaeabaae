// Canonical blocks by number, memoised per head, for RPC reads at past blocks (eth_call at a block number).
//
// Why: `chain.getBlockByNumber` reads the block from the database and decodes it (header, transactions,
// withdrawals) on every request: ~0.6 ms of a past-block eth_call's CPU in bench/call-profile.ts --at past, which a
// head call does not pay. Under one head the canonical block at a number cannot change (a reorg, a snapshot revert
// or a reset installs another head block), so the decoded block is kept per head object: a new head starts an
// empty memo, and the old head's memo goes with it. Blocks are frozen; readers share them.
import type { Block } from '@ethereumjs/block'

/** Blocks kept per head: the past blocks a test suite reads between two new heads. */
export const BLOCKS_PER_HEAD = 64

/** What the memo needs of a chain. */
export interface BlockSource {
  readonly head: Block
  getBlockByNumber(n: bigint): Promise<Block | undefined>
}

const byHead = new WeakMap<Block, Map<bigint, Block>>()

/** The canonical block `n` (undefined past the head), decoded once per head. */
export async function canonicalBlock(chain: BlockSource, n: bigint): Promise<Block | undefined> {
  const head = chain.head
  if (n === head.header.number) return head
  const memo = byHead.get(head)
  const hit = memo?.get(n)
  if (hit) return hit
  const block = await chain.getBlockByNumber(n)
  // the head may have moved while it was read: keep it only under the head it was read for
  if (block && chain.head === head) {
    const m = memo ?? new Map<bigint, Block>()
    if (!memo) byHead.set(head, m)
    m.set(n, block)
    if (m.size > BLOCKS_PER_HEAD) m.delete(m.keys().next().value as bigint)
  }
  return block
}
