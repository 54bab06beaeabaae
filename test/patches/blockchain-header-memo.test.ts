// patches/ethereumjs-blockchain-*-header-memo.patch: every header read from the blockchain's database was decoded
// again (a Common copy and setHardforkBy each, ~0.2 ms); putBlock reads the head and parent headers about three
// times per block. Decoded headers are now kept by their encoded bytes.
import { createBlock } from '@ethereumjs/block'
import { createBlockchain } from '@ethereumjs/blockchain'
import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { createChainCommon, loadChainSpec } from '../../src/chain/genesis.ts'

// the devnet's Common: every fork from block 0, so headers decoded by number carry a base fee
const spec = loadChainSpec()
const common = () => createChainCommon(spec)

describe('blockchain header-memo patch', () => {
  it('decodes a stored header once: the same frozen object on every read', async () => {
    const bc = await createBlockchain({ common: common(), validateBlocks: false, validateConsensus: false })
    const hash = bc.genesisBlock.hash()
    const a = await bc.dbManager.getHeader(hash, 0n)
    const b = await bc.dbManager.getHeader(hash, 0n)
    expect(b).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
  })

  it('gives the headers as built, across new blocks and a head reset', async () => {
    const bc = await createBlockchain({ common: common(), validateBlocks: false, validateConsensus: false })
    let parent = bc.genesisBlock
    const blocks = [parent]
    for (let i = 1n; i <= 4n; i++) {
      const block = createBlock(
        {
          header: {
            number: i,
            parentHash: parent.hash(),
            timestamp: parent.header.timestamp + 12n,
            gasLimit: parent.header.gasLimit,
          },
        },
        { common: common(), calcDifficultyFromHeader: parent.header },
      )
      await bc.putBlock(block)
      blocks.push(block)
      parent = block
    }
    await bc.resetCanonicalHead(2n)
    expect((await bc.getCanonicalHeadHeader()).number).toBe(2n)
    for (let i = 0n; i <= 4n; i++) {
      // by hash, canonical or not, against the blocks as built
      const block = blocks[Number(i)]
      const h = await bc.dbManager.getHeader(block.hash(), i)
      expect(bytesToHex(h.serialize())).toBe(bytesToHex(block.header.serialize()))
      expect(h.common.hardfork()).toBe(block.header.common.hardfork())
    }
  })
})
