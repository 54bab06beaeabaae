import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportBlockFile, importBlockFile } from '../../src/chain/blockfile.ts'
import { Chain } from '../../src/chain/chain.ts'
import { initDatadir, openDatadirChain } from '../../src/chain/datadir.ts'
import { BlockImportError } from '../../src/chain/errors.ts'
import { DEVNET_GENESIS_PATH, loadChainSpec } from '../../src/chain/genesis.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-import-export-'))
const genesisPath = fileURLToPath(DEVNET_GENESIS_PATH)
let file: string
let head: { number: bigint; hash: string; stateRoot: string }

/** Split a block file into its blocks' RLP field lists. */
function blocksOf(path: string): Uint8Array[] {
  const out: Uint8Array[] = []
  let rest: Uint8Array = readFileSync(path)
  while (rest.length > 0) {
    const { data, remainder } = RLP.decode(rest, true) as unknown as { data: unknown; remainder: Uint8Array }
    out.push(RLP.encode(data as Uint8Array[]))
    rest = remainder
  }
  return out
}

async function freshDatadir(name: string): Promise<string> {
  const dir = join(tmp, name)
  await initDatadir({ datadir: dir, genesisPath })
  return dir
}

beforeAll(async () => {
  // a devnet chain with transfers, a contract creation and a contract call that logs
  const devnet = await startTestDevnet({ datadir: join(tmp, 'devnet') })
  const send = async (tx: Record<string, string>) => {
    const r = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, ...tx }])
    expect(r.error).toBeUndefined()
    return r.result as string
  }
  await send({ to: ADDR1, value: '0xde0b6b3a7640000' })
  // runtime: LOG1(topic=CALLVALUE) then SSTORE(0, NUMBER); init code copies it out
  const runtime = '34600052600160006000a143600055'
  const init = `600f600c600039600f6000f3${runtime}`
  const created = await send({ data: `0x${init}` })
  const receipt = await rpc(devnet.url, 'eth_getTransactionReceipt', [created])
  const contract = receipt.result.contractAddress as string
  await send({ to: contract, value: '0x7' })
  await send({ to: ADDR1, value: '0x1', data: '0x1234' })
  await devnet.stop()

  const chain = await Chain.open({ datadir: join(tmp, 'devnet'), spec: loadChainSpec() })
  try {
    head = {
      number: chain.head.header.number,
      hash: bytesToHex(chain.head.hash()),
      stateRoot: bytesToHex(chain.head.header.stateRoot),
    }
    file = join(tmp, 'devnet.rlp')
    const { exported } = await exportBlockFile(chain, file)
    expect(exported).toBe(Number(head.number))
  } finally {
    await chain.close()
  }
}, 120_000)

afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('import/export', () => {
  it('round-trips the devnet chain into a fresh datadir: same head hash and state root', async () => {
    expect(head.number).toBe(4n)
    const dir = await freshDatadir('roundtrip')
    const chain = await openDatadirChain(dir)
    try {
      const progress: bigint[] = []
      const r = await importBlockFile(chain, file, { onProgress: (p) => progress.push(p.number) })
      expect(r.imported).toBe(4)
      expect(r.skipped).toBe(0)
      expect(progress).toEqual([1n, 2n, 3n, 4n])
      expect(bytesToHex(chain.head.hash())).toBe(head.hash)
      expect(bytesToHex(chain.head.header.stateRoot)).toBe(head.stateRoot)
      // receipts and lookups are written as mining writes them
      const block3 = (await chain.getBlockByNumber(3n))!
      const receipts = await chain.getReceipts(block3.hash())
      expect(receipts).toHaveLength(1)
      expect(receipts[0].logs).toHaveLength(1)
      const loc = await chain.getTransaction(block3.transactions[0].hash())
      expect(loc?.block.header.number).toBe(3n)
      // re-exporting gives the same bytes
      const again = join(tmp, 'again.rlp')
      await exportBlockFile(chain, again)
      expect(readFileSync(again).equals(readFileSync(file))).toBe(true)
    } finally {
      await chain.close()
    }
  })

  it('resumes: blocks already present are skipped', async () => {
    const dir = await freshDatadir('resume')
    const part = join(tmp, 'part.rlp')
    const src = await Chain.open({ datadir: join(tmp, 'devnet'), spec: loadChainSpec() })
    await exportBlockFile(src, part, { from: 1n, to: 2n })
    await src.close()
    const chain = await openDatadirChain(dir)
    try {
      expect((await importBlockFile(chain, part)).imported).toBe(2)
      const r = await importBlockFile(chain, file)
      expect(r).toMatchObject({ imported: 2, skipped: 2 })
      expect(bytesToHex(chain.head.hash())).toBe(head.hash)
    } finally {
      await chain.close()
    }
  })

  it('stops at a corrupted block with its number and reason, keeping the blocks before it', async () => {
    const blocks = blocksOf(file)
    // block 3: change the state root its header claims (the header hash changes with it)
    const fields = RLP.decode(blocks[2]) as unknown as Uint8Array[][]
    fields[0][3] = new Uint8Array(32).fill(0x11)
    blocks[2] = RLP.encode(fields as never)
    const bad = join(tmp, 'bad.rlp')
    writeFileSync(bad, Buffer.concat(blocks))
    const dir = await freshDatadir('corrupt')
    const chain = await openDatadirChain(dir)
    try {
      const err = await importBlockFile(chain, bad).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BlockImportError)
      expect((err as BlockImportError).number).toBe(3n)
      expect((err as Error).message).toMatch(/^block 3 is invalid: .*state ?root/i)
      expect(chain.head.header.number).toBe(2n)
    } finally {
      await chain.close()
    }
  })

  it('rejects a block whose transactions do not match its header', async () => {
    const blocks = blocksOf(file)
    // block 4 with block 3's transactions: transaction trie mismatch
    const f3 = RLP.decode(blocks[2]) as unknown as Uint8Array[][]
    const f4 = RLP.decode(blocks[3]) as unknown as Uint8Array[][]
    f4[1] = f3[1]
    blocks[3] = RLP.encode(f4 as never)
    const bad = join(tmp, 'bad-txs.rlp')
    writeFileSync(bad, Buffer.concat(blocks))
    const chain = await openDatadirChain(await freshDatadir('bad-txs'))
    try {
      const err = await importBlockFile(chain, bad).catch((e: unknown) => e)
      expect((err as BlockImportError).number).toBe(4n)
      expect((err as Error).message).toMatch(/block 4 is invalid: .*trie/i)
      expect(chain.head.header.number).toBe(3n)
    } finally {
      await chain.close()
    }
  })

  it('refuses a file that is not RLP blocks, naming the offset', async () => {
    const junk = join(tmp, 'junk.rlp')
    writeFileSync(junk, Buffer.from('hello'))
    const chain = await openDatadirChain(await freshDatadir('junk'))
    try {
      await expect(importBlockFile(chain, junk)).rejects.toThrow(/No RLP block at byte 0/)
    } finally {
      await chain.close()
    }
  })
})
