// Blocks beside the canonical chain (Engine API payloads not chosen yet, competing branches). ethereumjs'
// putBlock makes every proof-of-stake block the head, so a side block is written with the same records
// putBlock writes (total difficulty, header and body, hash → number) but without the canonical index:
// getBlock(hash) finds it, the head and getBlock(number) do not move. A later putBlock makes it canonical.
import type { Block } from '@ethereumjs/block'
import type { Blockchain } from '@ethereumjs/blockchain'
import { DBSetBlockOrHeader, DBSetHashToNumber, DBSetTD } from '@ethereumjs/blockchain'

/** Store `block` (its parent already stored) without making it canonical. */
export async function putSideBlock(blockchain: Blockchain, block: Block): Promise<void> {
  const { number, difficulty } = block.header
  const hash = block.hash()
  const td = (await blockchain.getParentTD(block.header)) + difficulty
  const ops = [DBSetTD(td, number, hash), ...DBSetBlockOrHeader(block), DBSetHashToNumber(hash, number)]
  // the manager is not part of Blockchain's typed surface; its batch() is what putBlock itself uses
  await (blockchain as unknown as { dbManager: { batch(ops: unknown[]): Promise<void> } }).dbManager.batch(ops)
}
