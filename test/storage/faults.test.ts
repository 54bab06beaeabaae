import { execFile } from 'node:child_process'
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createModelCache } from '../../src/storage/cache.ts'
import { parseCid, walkDag } from '../../src/storage/dag.ts'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { CorruptBlockError, KuboRequestError, PackageDigestMismatchError } from '../../src/storage/errors.ts'
import { createKuboModelStore } from '../../src/storage/kubo.ts'
import { addModelPackage } from '../../src/storage/package.ts'
import type { StorageProgressEvent } from '../../src/storage/types.ts'
import { collect, expectSameBytes } from './conformance.ts'
import { patternBytes } from './fixtures/data.ts'
import { startKuboFixture } from './fixtures/kubo-fixture.ts'
import { makePackageDir } from './fixtures/package-dir.ts'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lattice-faults-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

/** Flip one byte in the second leaf block of `cid` on disk; returns that block's CID. */
async function corruptLeaf(store: Awaited<ReturnType<typeof createEmbeddedModelStore>>, cid: string): Promise<string> {
  const blocks: string[] = []
  for await (const c of walkDag((x) => store.blockstore.getBytes(x), parseCid(cid))) blocks.push(c.toString())
  const leaf = parseCid(blocks[2])
  const at = store.blockstore.locate(leaf)!
  const fh = await open(at.path, 'r+')
  const one = Buffer.alloc(1)
  await fh.read(one, 0, 1, at.offset + 1000)
  one[0] ^= 0x01
  await fh.write(one, 0, 1, at.offset + 1000)
  await fh.close()
  return leaf.toString()
}

describe('storage faults', () => {
  it('detects a flipped byte in a stored block on read, naming the block', async () => {
    const store = await createEmbeddedModelStore({ datadir: join(root, 'a') })
    try {
      const data = patternBytes(1_000_000, 9)
      const { cid } = await store.add(data)
      expect(await store.has(cid)).toBe(true)
      const bad = await corruptLeaf(store, cid)
      const err = await collect(store.cat(cid)).catch((e) => e)
      expect(err).toBeInstanceOf(CorruptBlockError)
      expect(err.code).toBe('STORAGE_CORRUPT_BLOCK')
      expect(err.cid).toBe(bad)
      expect(err.message).toContain(bad)
      expect(await store.has(cid)).toBe(false)
      // a window that avoids the corrupt block still reads
      expectSameBytes(await collect(store.cat(cid, { offset: 0, length: 1000 })), data.subarray(0, 1000))
    } finally {
      await store.close()
    }
  })

  it('a block torn by a crash reads as corrupt and is replaced when the content is added again', async () => {
    const store = await createEmbeddedModelStore({ datadir: join(root, 't') })
    try {
      const data = patternBytes(700_000, 12)
      const { cid } = await store.add(data)
      const blocks: string[] = []
      for await (const c of walkDag((x) => store.blockstore.getBytes(x), parseCid(cid))) blocks.push(c.toString())
      // the block's tail never reached the disk (zeros), as after a crash between index and data
      const at = store.blockstore.locate(parseCid(blocks[1]))!
      const fh = await open(at.path, 'r+')
      await fh.write(Buffer.alloc(at.length - 1000), 0, at.length - 1000, at.offset + 1000)
      await fh.close()
      await expect(collect(store.cat(cid))).rejects.toBeInstanceOf(CorruptBlockError)
      expect((await store.add(data)).cid).toBe(cid)
      expectSameBytes(await collect(store.cat(cid)), data)
    } finally {
      await store.close()
    }
  })

  it('repairs a corrupt block from the Kubo backend', async () => {
    const fixture = await startKuboFixture({ dir: join(root, 'kubo') })
    const kubo = await createKuboModelStore({ url: fixture.url })
    const store = await createEmbeddedModelStore({ datadir: join(root, 'b'), repairFrom: kubo })
    try {
      const data = patternBytes(1_000_000, 10)
      const { cid } = await store.add(data)
      expect((await kubo.add({ path: await writeTmp(data) })).cid).toBe(cid)
      await corruptLeaf(store, cid)
      const events: StorageProgressEvent[] = []
      expectSameBytes(await collect(store.cat(cid, { onProgress: (e) => events.push(e) })), data)
      expect(events.some((e) => e.op === 'repair')).toBe(true)
      expect(await store.has(cid)).toBe(true) // the block on disk was rewritten
    } finally {
      await store.close()
      await fixture.close()
    }
  })

  it('a block served corrupt by the Kubo daemon is refused, naming the block', async () => {
    const corruptBlocks = new Set<string>()
    const fixture = await startKuboFixture({ dir: join(root, 'kubo'), corruptBlocks })
    const store = await createKuboModelStore({ url: fixture.url })
    try {
      const data = patternBytes(600_000, 13)
      const { cid } = await store.add(data)
      const blocks: string[] = []
      for await (const c of walkDag((x) => fixture.blockstore.getBytes(x), parseCid(cid))) blocks.push(c.toString())
      corruptBlocks.add(blocks[2])
      const err = await collect(store.cat(cid)).catch((e) => e)
      expect(err).toBeInstanceOf(CorruptBlockError)
      expect(err.cid).toBe(blocks[2])
    } finally {
      await fixture.close()
    }
  })

  it('a Kubo daemon that drops the connection mid-add leaves no pinned partial package', async () => {
    const fixture = await startKuboFixture({ dir: join(root, 'kubo'), dropAddAfterBytes: 600_000 })
    const store = await createKuboModelStore({ url: fixture.url })
    try {
      await makePackageDir(join(root, 'pkg'), { dataSize: 3_000_000 })
      const err = await addModelPackage(store, { dir: join(root, 'pkg') }).catch((e) => e)
      expect(err).toBeInstanceOf(KuboRequestError)
      // the small files went in before the drop, but nothing is pinned
      expect(fixture.requests.filter((r) => r.startsWith('add?')).length).toBeGreaterThan(1)
      expect(fixture.pins.size).toBe(0)
      expect(await store.pins()).toEqual([])
      // and after gc nothing of the package survives
      await store.gc()
      expect(await fixture.blockstore.getAll().next()).toMatchObject({ done: true })
    } finally {
      await fixture.close()
    }
  })

  it('a failing pin rolls back the pins already made', async () => {
    const fixture = await startKuboFixture({ dir: join(root, 'kubo') })
    const store = await createKuboModelStore({ url: fixture.url })
    try {
      await makePackageDir(join(root, 'pkg'))
      const realPin = store.pin.bind(store)
      let n = 0
      store.pin = async (cid, o) => {
        if (++n === 3) throw new KuboRequestError('pin/add', 'injected')
        return realPin(cid, o)
      }
      await expect(addModelPackage(store, { dir: join(root, 'pkg') })).rejects.toBeInstanceOf(KuboRequestError)
      expect(fixture.pins.size).toBe(0)
    } finally {
      await fixture.close()
    }
  })

  it('two concurrent fetches of one model (two calls, two cache objects) produce one intact file', async () => {
    const store = await createEmbeddedModelStore({ datadir: join(root, 'c') })
    try {
      const files = await makePackageDir(join(root, 'pkg'))
      const pkg = await addModelPackage(store, { dir: join(root, 'pkg') }, { partSize: 512 * 1024 })
      const dir = join(root, 'cache')
      const a = createModelCache({ dir, store })
      const b = createModelCache({ dir, store })
      const results = await Promise.all([
        a.getModelFile(pkg.manifestCid, pkg.digest),
        a.getModelFile(pkg.manifestCid, pkg.digest),
        b.getModelFile(pkg.manifestCid, pkg.digest),
        b.getModelFile(pkg.manifestCid, pkg.digest, { file: 'model.onnx_data' }),
      ])
      expect(new Set(results.slice(0, 3).map((r) => r.path)).size).toBe(1)
      expectSameBytes(await readFile(results[0].path), files['model.onnx'])
      expectSameBytes(await readFile(results[3].path), files['model.onnx_data'])
      expect(await readdir(join(dir, 'packages'))).toEqual([pkg.digest.slice(2)])
      expect(await readdir(join(dir, 'tmp'))).toEqual([])
      expectSameBytes(await a.getModelBytes(pkg.manifestCid, pkg.digest), files['model.onnx'])
    } finally {
      await store.close()
    }
  })

  it('two processes fetching one model at once produce one intact file', async () => {
    const fixture = await startKuboFixture({ dir: join(root, 'kubo') })
    const store = await createKuboModelStore({ url: fixture.url })
    try {
      const files = await makePackageDir(join(root, 'pkg'), { dataSize: 4_000_000 })
      const pkg = await addModelPackage(store, { dir: join(root, 'pkg') }, { partSize: 512 * 1024 })
      const dir = join(root, 'cache')
      const worker = join(import.meta.dirname, 'fixtures', 'cache-worker.ts')
      const run = () =>
        promisify(execFile)(process.execPath, [
          '--import',
          'tsx',
          worker,
          fixture.url,
          dir,
          pkg.manifestCid,
          pkg.digest,
        ])
      const outs = await Promise.all([run(), run()])
      const paths = outs.map((o) => JSON.parse(o.stdout).path as string)
      expect(paths[0]).toBe(paths[1])
      expectSameBytes(await readFile(paths[0]), files['model.onnx_data'])
      expect(await readdir(join(dir, 'packages'))).toEqual([pkg.digest.slice(2)])
      expect(await readdir(join(dir, 'tmp'))).toEqual([])
    } finally {
      await fixture.close()
    }
  })

  it('the cache refuses a wrong digest and caches nothing; it re-fetches a corrupted cached file', async () => {
    const store = await createEmbeddedModelStore({ datadir: join(root, 'd') })
    try {
      const files = await makePackageDir(join(root, 'pkg'))
      const pkg = await addModelPackage(store, { dir: join(root, 'pkg') })
      const cache = createModelCache({ dir: join(root, 'cache'), store })
      const wrong = `0x${'ab'.repeat(32)}`
      await expect(cache.getModelFile(pkg.manifestCid, wrong)).rejects.toBeInstanceOf(PackageDigestMismatchError)
      expect(await cache.entries()).toEqual([])
      const { path } = await cache.getModelFile(pkg.manifestCid, pkg.digest)
      const bytes = await readFile(path)
      bytes[10] ^= 0xff
      await writeFile(path, bytes)
      // a fresh cache object (another process) verifies on read and heals the entry
      const other = createModelCache({ dir: join(root, 'cache'), store })
      const again = await other.getModelFile(pkg.manifestCid, pkg.digest)
      expectSameBytes(await readFile(again.path), files['model.onnx'])
    } finally {
      await store.close()
    }
  })

  it('evicts least-recently-used packages beyond the byte budget', async () => {
    const store = await createEmbeddedModelStore({ datadir: join(root, 'e') })
    try {
      const pkgs = []
      for (const seed of [1, 2, 3]) {
        await makePackageDir(join(root, `p${seed}`), { dataSize: 1_000_000 + seed })
        pkgs.push(await addModelPackage(store, { dir: join(root, `p${seed}`) }, { name: `p${seed}` }))
      }
      const size = pkgs[0].manifest.totalSize
      const cache = createModelCache({ dir: join(root, 'cache'), store, maxBytes: 2 * size + 100 })
      await cache.getModelFile(pkgs[0].manifestCid, pkgs[0].digest)
      await new Promise((r) => setTimeout(r, 20))
      await cache.getModelFile(pkgs[1].manifestCid, pkgs[1].digest)
      await new Promise((r) => setTimeout(r, 20))
      await cache.getModelFile(pkgs[0].manifestCid, pkgs[0].digest) // p1 is now the least recently used
      await new Promise((r) => setTimeout(r, 20))
      await cache.getModelFile(pkgs[2].manifestCid, pkgs[2].digest)
      const left = (await cache.entries()).map((e) => e.digest).sort()
      expect(left).toEqual([pkgs[0].digest, pkgs[2].digest].sort())
    } finally {
      await store.close()
    }
  })
})

async function writeTmp(data: Uint8Array): Promise<string> {
  const p = join(root, `tmp-${Math.random().toString(36).slice(2)}.bin`)
  await writeFile(p, data)
  return p
}
