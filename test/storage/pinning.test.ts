import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmbeddedModelStore, type EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { PackageDigestMismatchError } from '../../src/storage/errors.ts'
import { addModelPackage, type PackageResult } from '../../src/storage/package.ts'
import { createPinningManager, rewardPerPeriod } from '../../src/storage/pinning.ts'
import { patternBytes } from './fixtures/data.ts'
import { makePackageDir } from './fixtures/package-dir.ts'

describe('pinning manager', () => {
  let root: string
  let store: EmbeddedModelStore
  let llm: PackageResult
  let det: PackageResult
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lattice-pin-'))
    store = await createEmbeddedModelStore({ datadir: join(root, 'node') })
    await makePackageDir(join(root, 'a'), { dataSize: 3 * 1024 * 1024 })
    await makePackageDir(join(root, 'b'), { dataSize: 500_000 })
    llm = await addModelPackage(store, { dir: join(root, 'a') }, { modelType: 'llm', pin: false })
    det = await addModelPackage(store, { dir: join(root, 'b') }, { modelType: 'detector', pin: false })
  })
  afterAll(async () => {
    await store.close()
    await rm(root, { recursive: true, force: true })
  })

  it('rewards: ceil(MiB) x rate x weight / 100', () => {
    expect(rewardPerPeriod(1, 'classifier')).toBe(1_000_000_000n)
    expect(rewardPerPeriod(1024 * 1024, 'classifier')).toBe(1_000_000_000n)
    expect(rewardPerPeriod(1024 * 1024 + 1, 'llm')).toBe(3_000_000_000n)
    expect(rewardPerPeriod(10 * 1024 * 1024, 'unknown-type')).toBe(10_000_000_000n)
  })

  it('pins packages and raw CIDs, lists sizes, accrues rewards, reports external pins, unpins', async () => {
    const stateFile = join(root, 'state', 'pinning.json')
    const pm = createPinningManager({ store, stateFile })
    const a = await pm.pin(llm.manifestCid, { expectedDigest: llm.digest })
    expect(a).toMatchObject({ kind: 'package', digest: llm.digest, modelType: 'llm', bytes: llm.manifest.totalSize })
    await pm.pin(det.manifestCid)
    const raw = await store.add(patternBytes(2000, 1))
    expect(await pm.pin(raw.cid)).toMatchObject({ kind: 'raw', modelType: 'raw', bytes: 2000 })
    // every part of a pinned package is pinned in the store
    const pinned = new Set((await store.pins()).map((p) => p.cid))
    for (const f of llm.manifest.files) for (const p of f.parts) expect(pinned.has(p.cid)).toBe(true)
    expect((await pm.list()).map((r) => r.cid)).toEqual([llm.manifestCid, det.manifestCid, raw.cid])

    const added = await pm.accrue(2)
    const expected =
      2n *
      (rewardPerPeriod(llm.manifest.totalSize, 'llm') +
        rewardPerPeriod(det.manifest.totalSize, 'detector') +
        rewardPerPeriod(2000, 'raw'))
    expect(added).toBe(expected)

    await pm.reportExternalPin({
      node: 'peer-1',
      cid: llm.manifestCid,
      bytes: llm.manifest.totalSize,
      modelType: 'llm',
    })
    await pm.reportExternalPin({
      node: 'peer-1',
      cid: llm.manifestCid,
      bytes: llm.manifest.totalSize,
      modelType: 'llm',
    })
    await pm.reportExternalPin({ node: 'peer-2', cid: det.manifestCid, bytes: 7 })
    const s = await pm.summary()
    expect(s).toEqual({
      pinnedModels: 2,
      bytes: llm.manifest.totalSize + det.manifest.totalSize + 2000,
      byType: {
        llm: { models: 1, bytes: llm.manifest.totalSize },
        detector: { models: 1, bytes: det.manifest.totalSize },
        raw: { models: 1, bytes: 2000 },
      },
      rewardsAccrued: expected.toString(),
      external: { nodes: 2, pins: 2, bytes: llm.manifest.totalSize + 7 },
    })
    // state survives a new manager (a restart)
    expect(await createPinningManager({ store, stateFile }).summary()).toEqual(s)
    expect(JSON.parse(await readFile(stateFile, 'utf8')).version).toBe(1)

    await pm.unpin(llm.manifestCid)
    const after = new Set((await store.pins()).map((p) => p.cid))
    expect(after.has(llm.manifestCid)).toBe(false)
    expect(after.has(det.manifestCid)).toBe(true)
    // files shared by both packages (identical tokenizer/config/model bytes) stay pinned for det
    for (const f of det.manifest.files) for (const p of f.parts) expect(after.has(p.cid)).toBe(true)
    expect((await pm.summary()).pinnedModels).toBe(1)
  })

  it('refuses to pin a package under the wrong digest', async () => {
    const pm = createPinningManager({ store, stateFile: join(root, 'other.json') })
    await expect(pm.pin(det.manifestCid, { expectedDigest: llm.digest })).rejects.toBeInstanceOf(
      PackageDigestMismatchError,
    )
    expect(await pm.list()).toEqual([])
  })
})
