// The pack blockstore: blocks survive reopen, a torn write (cut index tail, bad index entry, cut data tail,
// unindexed data) is found and dropped on open, deletes and compaction, concurrent positional writes, and
// datadirs in the older blockstore-fs layout still read through the embedded store.
import { createHash } from 'node:crypto'
import { mkdtemp, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LatticeBlockstore } from '../../src/storage/blockstore.ts'
import { importFile, parseCid, verifyBlock } from '../../src/storage/dag.ts'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { BlockNotFoundError, CorruptBlockError } from '../../src/storage/errors.ts'
import { PackBlockstore } from '../../src/storage/pack.ts'
import { collect, expectSameBytes } from './conformance.ts'
import { patternBytes } from './fixtures/data.ts'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lattice-pack-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

function rawBlock(i: number, size = 10_000): { cid: CID; bytes: Buffer } {
  const bytes = patternBytes(size, i * 7919)
  bytes[0] = i & 0xff
  bytes[1] = i >> 8
  return { cid: CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(bytes).digest())), bytes }
}

async function openPack(dir = join(root, 'pack')): Promise<PackBlockstore> {
  const p = new PackBlockstore(dir)
  await p.open()
  return p
}

async function readsIntact(p: PackBlockstore, b: { cid: CID; bytes: Buffer }): Promise<void> {
  const got = await p.getBytes(b.cid)
  verifyBlock(b.cid, got)
  expect(Buffer.from(got).equals(b.bytes)).toBe(true)
}

describe('pack blockstore', () => {
  it('keeps blocks across reopen, in two files', async () => {
    const blocks = Array.from({ length: 20 }, (_, i) => rawBlock(i))
    let p = await openPack()
    for (const b of blocks) await p.put(b.cid, b.bytes)
    await p.close()
    p = await openPack()
    try {
      expect(p.recovery).toEqual({ droppedEntries: 0, truncatedIndexBytes: 0, truncatedDataBytes: 0 })
      for (const b of blocks) await readsIntact(p, b)
      expect((await stat(p.dataPath)).size).toBe(20 * 10_000)
      expect((await stat(p.indexPath)).size).toBe(20 * 64)
      const all: string[] = []
      for await (const { cid } of p.getAll()) all.push(cid.toString())
      expect(all.sort()).toEqual(blocks.map((b) => b.cid.toString()).sort())
    } finally {
      await p.close()
    }
  })

  it('writes concurrent blocks at their own offsets (the files are not O_APPEND)', async () => {
    const blocks = Array.from({ length: 64 }, (_, i) => rawBlock(i, 1000 + ((i * 37_123) % 300_000)))
    const p = await openPack()
    try {
      await Promise.all(blocks.map((b) => p.put(b.cid, b.bytes)))
      for (const b of blocks) await readsIntact(p, b)
      // the same content twice in flight is stored once
      const dup = rawBlock(999)
      await Promise.all([p.put(dup.cid, dup.bytes), p.put(dup.cid, dup.bytes)])
      await p.put(dup.cid, dup.bytes)
      const total = blocks.reduce((a, b) => a + b.bytes.length, 0) + dup.bytes.length
      expect((await stat(p.dataPath)).size).toBe(total)
    } finally {
      await p.close()
    }
  })

  it('drops a partial trailing index entry on open', async () => {
    const blocks = Array.from({ length: 5 }, (_, i) => rawBlock(i))
    let p = await openPack()
    for (const b of blocks) await p.put(b.cid, b.bytes)
    await p.close()
    await truncate(p.indexPath, 4 * 64 + 30) // the last entry torn mid-write
    p = await openPack()
    try {
      expect(p.recovery.truncatedIndexBytes).toBe(30)
      for (const b of blocks.slice(0, 4)) await readsIntact(p, b)
      await expect(p.getBytes(blocks[4].cid)).rejects.toBeInstanceOf(BlockNotFoundError)
      // its data is unindexed now and cut off, and the block can be written again
      expect(p.recovery.truncatedDataBytes).toBe(10_000)
      await p.put(blocks[4].cid, blocks[4].bytes)
      await readsIntact(p, blocks[4])
    } finally {
      await p.close()
    }
    p = await openPack()
    try {
      expect(p.recovery).toEqual({ droppedEntries: 0, truncatedIndexBytes: 0, truncatedDataBytes: 0 })
      for (const b of blocks) await readsIntact(p, b)
    } finally {
      await p.close()
    }
  })

  it('drops a corrupt index entry in the middle and keeps the rest', async () => {
    const blocks = Array.from({ length: 6 }, (_, i) => rawBlock(i))
    let p = await openPack()
    for (const b of blocks) await p.put(b.cid, b.bytes)
    await p.close()
    // flip a byte of entry 2's offset field; a zero-filled entry (an index write that never landed) too
    const fh = await open(p.indexPath, 'r+')
    const one = Buffer.alloc(1)
    await fh.read(one, 0, 1, 2 * 64 + 45)
    one[0] ^= 0x10
    await fh.write(one, 0, 1, 2 * 64 + 45)
    await fh.write(Buffer.alloc(64), 0, 64, 4 * 64)
    await fh.close()
    p = await openPack()
    try {
      expect(p.recovery.droppedEntries).toBe(2)
      for (const i of [0, 1, 3, 5]) await readsIntact(p, blocks[i])
      for (const i of [2, 4]) await expect(p.getBytes(blocks[i].cid)).rejects.toBeInstanceOf(BlockNotFoundError)
      // the index was rewritten without them: appends after it are found on the next open
      await p.put(blocks[2].cid, blocks[2].bytes)
    } finally {
      await p.close()
    }
    p = await openPack()
    try {
      expect(p.recovery.droppedEntries).toBe(0)
      await readsIntact(p, blocks[2])
    } finally {
      await p.close()
    }
  })

  it('drops an entry whose data was cut off, and unindexed data at the end', async () => {
    const blocks = Array.from({ length: 3 }, (_, i) => rawBlock(i))
    let p = await openPack()
    for (const b of blocks) await p.put(b.cid, b.bytes)
    await p.close()
    await truncate(p.dataPath, 2 * 10_000 + 500) // the last block's data torn
    p = await openPack()
    try {
      expect(p.recovery.droppedEntries).toBe(1)
      expect(p.recovery.truncatedDataBytes).toBe(500)
      expect((await stat(p.dataPath)).size).toBe(20_000)
      await readsIntact(p, blocks[1])
      expect(await p.has(blocks[2].cid)).toBe(false)
    } finally {
      await p.close()
    }
  })

  it('deletes survive reopen; compaction reclaims their space and keeps live blocks readable', async () => {
    const blocks = Array.from({ length: 10 }, (_, i) => rawBlock(i))
    let p = await openPack()
    for (const b of blocks) await p.put(b.cid, b.bytes)
    for (const b of blocks.slice(0, 6)) await p.delete(b.cid)
    await p.close()
    p = await openPack()
    try {
      for (const b of blocks.slice(0, 6)) expect(await p.has(b.cid)).toBe(false)
      expect(await p.compact()).toEqual({ before: 100_000, after: 40_000 })
      for (const b of blocks.slice(6)) await readsIntact(p, b)
    } finally {
      await p.close()
    }
    p = await openPack()
    try {
      expect(p.recovery.droppedEntries).toBe(0)
      for (const b of blocks.slice(6)) await readsIntact(p, b)
    } finally {
      await p.close()
    }
  })
})

describe('embedded store on a pack', () => {
  it('a torn pack tail after a crash: the model reads as absent, and adding it again restores it', async () => {
    const data = patternBytes(3_000_000, 5)
    let store = await createEmbeddedModelStore({ datadir: join(root, 'n') })
    const { cid } = await store.add(data)
    const dataPath = store.blockstore.dataPath
    const indexPath = store.blockstore.indexPath
    await store.close()
    const size = (await stat(dataPath)).size
    await truncate(dataPath, size - 100_000)
    const idxSize = (await stat(indexPath)).size
    await truncate(indexPath, idxSize - 10)
    store = await createEmbeddedModelStore({ datadir: join(root, 'n') })
    try {
      expect(store.blockstore.recovery.truncatedIndexBytes).toBe(54)
      expect(await store.has(cid)).toBe(false)
      expect((await store.add(data)).cid).toBe(cid)
      expect(await store.has(cid)).toBe(true)
      expectSameBytes(await collect(store.cat(cid)), data)
    } finally {
      await store.close()
    }
  })

  it('reads a datadir written in the blockstore-fs layout (blocks/), and adds new blocks to the pack', async () => {
    const repo = join(root, 'old', 'ipfs')
    const old = new LatticeBlockstore(join(repo, 'blocks'))
    await old.open()
    const data = patternBytes(2_000_000, 3)
    const { cid } = await importFile(old, data, { cidVersion: 1 })
    await old.close()
    const store = await createEmbeddedModelStore({ datadir: join(root, 'old') })
    try {
      expect(store.blockstore.legacy).toBeDefined()
      expect(await store.has(cid)).toBe(true)
      expectSameBytes(await collect(store.cat(cid)), data)
      await store.pin(cid)
      // get's pack path falls back to the verified getter for blocks outside the pack
      await store.get(cid, join(root, 'old.out'))
      expectSameBytes(await readFile(join(root, 'old.out')), data)
      const other = patternBytes(1_500_000, 77)
      const added = await store.add(other)
      expect(store.blockstore.locate(parseCid(added.cid))).toBeDefined()
      expect(store.blockstore.locate(parseCid(cid))).toBeUndefined() // still served from blocks/
      // gc keeps the pinned legacy model and removes the unpinned pack one
      expect((await store.gc()).removed).toBeGreaterThan(0)
      expectSameBytes(await collect(store.cat(cid)), data)
      expect(await store.has(added.cid)).toBe(false)
    } finally {
      await store.close()
    }
  })

  it('get exports from the pack: same bytes, progress, a corrupt leaf fails naming it and leaves no file', async () => {
    const data = patternBytes(5_000_000, 21)
    const store = await createEmbeddedModelStore({ datadir: join(root, 'g') })
    try {
      const { cid } = await store.add(data)
      const events: number[] = []
      const out = join(root, 'out', 'model.bin')
      await import('node:fs/promises').then((f) => f.mkdir(join(root, 'out')))
      expect(await store.get(cid, out, { onProgress: (e) => events.push(e.done) })).toEqual({ cid, size: data.length })
      expectSameBytes(await readFile(out), data)
      expect(events.at(-1)).toBe(data.length)
      // flip a byte in the middle of one leaf inside the pack
      const leaves: CID[] = []
      for await (const { cid: c } of store.blockstore.getAll()) if (c.code === 0x55) leaves.push(c)
      const victim = leaves[3]
      const at = store.blockstore.locate(victim)!
      const fh = await open(at.path, 'r+')
      await fh.write(Buffer.from([0x5a ^ 0xff]), 0, 1, at.offset + 77)
      await fh.close()
      const err = await store.get(cid, join(root, 'out', 'again.bin')).catch((e) => e)
      expect(err).toBeInstanceOf(CorruptBlockError)
      expect(err.cid).toBe(victim.toString())
      expect((await readdir(join(root, 'out'))).sort()).toEqual(['model.bin'])
    } finally {
      await store.close()
    }
  })
})
