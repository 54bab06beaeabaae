// patches/ethereumjs-blockchain-*-header-memo.patch: every header read from the blockchain's database was decoded
// again (a Common copy and setHardforkBy each, ~0.2 ms); putBlock reads the head and parent headers about three
// times per block. Decoded headers are now kept by their encoded bytes, in an LRU of 512 (issue 15: kept weakly by
// bytes that the 16 MiB block read cache held, they were 14.7 MiB more, uncharged, at soak block 3,910).
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

  it('keeps at most 512 decoded headers, the most recently read ones', async () => {
    const bc = await createBlockchain({ common: common(), validateBlocks: false, validateConsensus: false })
    const memo = (bc.dbManager as unknown as { _decodedHeaders: Map<Uint8Array, unknown> })._decodedHeaders
    const blocks = [bc.genesisBlock]
    for (let i = 1n; i <= 700n; i++) {
      const parent = blocks.at(-1)!
      const header = { number: i, parentHash: parent.hash(), timestamp: parent.header.timestamp + 12n }
      const block = createBlock(
        { header: { ...header, gasLimit: parent.header.gasLimit } },
        { common: common(), calcDifficultyFromHeader: parent.header },
      )
      await bc.putBlock(block)
      blocks.push(block)
    }
    // every header read once, oldest first, the genesis header between each: more headers than the bound
    const genesis = await bc.dbManager.getHeader(blocks[0].hash(), 0n)
    for (const [i, block] of blocks.entries()) {
      const h = await bc.dbManager.getHeader(block.hash(), BigInt(i))
      expect(h.number).toBe(BigInt(i))
      expect(await bc.dbManager.getHeader(blocks[0].hash(), 0n)).toBe(genesis)
      expect(memo.size).toBeLessThanOrEqual(512)
    }
    expect(memo.size).toBe(512)
    // the newest header is still decoded once; the genesis header, read all along, was never evicted
    const last = blocks.length - 1
    const newest = await bc.dbManager.getHeader(blocks[last].hash(), BigInt(last))
    expect(await bc.dbManager.getHeader(blocks[last].hash(), BigInt(last))).toBe(newest)
  }, 120_000)

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
