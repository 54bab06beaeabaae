// Two embedded stores with networking on (Helia + libp2p over loopback TCP) fetch each other's blocks.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createModelCache } from '../../src/storage/cache.ts'
import { createEmbeddedModelStore, type EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { addModelPackage } from '../../src/storage/package.ts'
import { collect, expectSameBytes } from './conformance.ts'
import { patternBytes } from './fixtures/data.ts'
import { makePackageDir } from './fixtures/package-dir.ts'

describe('embedded stores over libp2p (bitswap)', () => {
  let root: string
  let a: EmbeddedModelStore
  let b: EmbeddedModelStore
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lattice-net-'))
    a = await createEmbeddedModelStore({ datadir: join(root, 'a'), network: {} })
    const addrs = a.network!.multiaddrs()
    expect(addrs.length).toBeGreaterThan(0)
    b = await createEmbeddedModelStore({ datadir: join(root, 'b'), network: { peers: [addrs[0]] } })
  }, 60_000)
  afterAll(async () => {
    await b?.close()
    await a?.close()
    await rm(root, { recursive: true, force: true })
  })

  it('a store without networking never loads helia or libp2p; one with networking does', async () => {
    const { execFile } = await import('node:child_process')
    const { promisify } = await import('node:util')
    const { readFile } = await import('node:fs/promises')
    const trace = async (mode: string) => {
      const file = join(root, `trace-${mode}.txt`)
      // async: a blocked event loop would starve the libp2p nodes this file keeps running
      await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'import-trace.ts'), join(root, `t-${mode}`), mode],
        { env: { ...process.env, TRACE_FILE: file } },
      )
      return readFile(file, 'utf8')
    }
    const plain = await trace('plain')
    expect(plain).toMatch(/node_modules\/blockstore-fs\//)
    // (@libp2p/logger is a small debug-log helper that blockstore-fs itself uses)
    expect(plain).not.toMatch(/node_modules\/(helia|libp2p|@helia\/[a-z-]+|@libp2p\/(?!logger\/)[a-z-]+)\//)
    const networked = await trace('network')
    expect(networked).toMatch(/node_modules\/helia\//)
    expect(networked).toMatch(/node_modules\/@libp2p\/tcp\//)
  }, 60_000)

  it('fetches a file added on the other node, verified, and keeps it', async () => {
    const data = patternBytes(3_000_000, 42)
    const { cid } = await a.add(data)
    expect(await b.has(cid)).toBe(false)
    expectSameBytes(await collect(b.cat(cid)), data)
    expect(await b.has(cid)).toBe(true)
  }, 60_000)

  it('pins a package from a peer and serves it from the model cache', async () => {
    const files = await makePackageDir(join(root, 'pkg'))
    const pkg = await addModelPackage(a, { dir: join(root, 'pkg') }, { partSize: 512 * 1024 })
    const cache = createModelCache({ dir: join(root, 'cache-b'), store: b })
    const got = await cache.getModelBytes(pkg.manifestCid, pkg.digest, { file: 'model.onnx_data' })
    expectSameBytes(got, files['model.onnx_data'])
  }, 60_000)
})
