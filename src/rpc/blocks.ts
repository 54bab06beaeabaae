import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import type { Chain } from '../chain/chain.ts'
import { taggedBlock } from '../chain/forkchoice.ts'
import type { BlockRef } from './codec.ts'
import { RpcCode, RpcError } from './errors.ts'

/** Resolve a block parameter (tag, number or hash) against the chain (undefined when unknown). */
export async function resolveBlock(chain: Chain, ref: BlockRef): Promise<Block | undefined> {
  if ('tag' in ref) {
    if (ref.tag === 'safe' || ref.tag === 'finalized') return taggedBlock(chain, ref.tag)
    return ref.tag === 'earliest' ? chain.getBlockByNumber(0n) : chain.head
  }
  if ('number' in ref) return chain.getBlockByNumber(ref.number)
  const block = await chain.getBlockByHash(ref.hash)
  if (block && ref.requireCanonical && !(await chain.isCanonical(block))) {
    throw new RpcError(RpcCode.server, `hash ${bytesToHex(ref.hash)} is not currently canonical`)
  }
  return block
}

/** Like {@link resolveBlock}, with geth's "header not found" error. */
export async function resolveBlockOrThrow(chain: Chain, ref: BlockRef): Promise<Block> {
  const b = await resolveBlock(chain, ref)
  if (!b) throw new RpcError(RpcCode.server, 'header not found')
  return b
}
