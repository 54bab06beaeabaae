// Block verification with the sha256 on a worker thread: a streaming read verifies every block, and on
// the main thread that hash competed with reading the pack and writing the output file.
import type { CID } from 'multiformats/cid'
import { verifyBlock } from './dag.ts'
import { CorruptBlockError } from './errors.ts'
import type { HashPool } from './hash-pool.ts'

const SHA2_256 = 0x12
/** Smaller blocks (interior nodes, tails) hash in place: the worker hop costs more than the hash. */
const POOLED_MIN = 64 * 1024

/**
 * `bytes` checked against `cid` (CorruptBlockError otherwise), returned for use: the caller hands them
 * over and must use the returned array, which may be a different view of the same memory.
 */
export async function verifyBlockPooled(cid: CID, bytes: Uint8Array, pool: HashPool): Promise<Uint8Array> {
  if (cid.multihash.code !== SHA2_256 || bytes.byteLength < POOLED_MIN) {
    verifyBlock(cid, bytes)
    return bytes
  }
  const { digest, bytes: back } = await pool.digestOwned(bytes)
  const want = cid.multihash.digest
  if (digest.length === want.length && Buffer.from(digest).equals(want)) return back
  throw new CorruptBlockError(
    cid.toString(),
    `sha2-256 of the ${back.length} stored bytes is ${Buffer.from(digest).toString('hex')}`,
  )
}
