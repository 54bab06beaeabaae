// At start, the blocks of the write-ahead log (wal.ts) that the database does not hold are imported again, in
// order, on top of the durable head: they are blocks this node mined and acknowledged before a crash took their
// staged writes. Blocks already in the database are skipped; a block that does not follow the head ends the replay
// (a reset after it was logged made it non-canonical, and resets commit and empty the log, so it cannot be one
// that was acknowledged on the canonical chain).
import { equalsBytes } from '@ethereumjs/util'
import { errorMessage } from '../errors.ts'
import { decodeBlock } from './blockfile.ts'
import type { Chain } from './chain.ts'
import { WalReplayError } from './errors.ts'

/** What a replay did. */
export interface WalReplayResult {
  /** Blocks imported again. */
  replayed: number
  /** Blocks the database already held. */
  skipped: number
  /** Blocks that did not follow the head, left out. */
  discarded: number
  ms: number
}

/** Import the logged blocks the chain lacks. Call inside the chain lock, before anything else uses the chain. */
export async function replayWal(chain: Chain, records: Uint8Array[]): Promise<WalReplayResult> {
  const t = performance.now()
  const out: WalReplayResult = { replayed: 0, skipped: 0, discarded: 0, ms: 0 }
  for (let i = 0; i < records.length; i++) {
    const block = decodeBlock(chain, records[i], i + 1)
    const n = block.header.number
    const head = chain.head
    if (n <= head.header.number) {
      const have = await chain.getBlockByNumber(n)
      if (have && equalsBytes(have.hash(), block.hash())) {
        out.skipped++
        continue
      }
    }
    if (n !== head.header.number + 1n || !equalsBytes(block.header.parentHash, head.hash())) {
      out.discarded = records.length - i
      break
    }
    try {
      // a block this node built: its header choices (devnet gas limit, pinned base fee) are not re-validated
      await chain.importBlock(block, { trusted: true })
    } catch (err) {
      throw new WalReplayError(n, errorMessage(err))
    }
    out.replayed++
  }
  out.ms = performance.now() - t
  return out
}
