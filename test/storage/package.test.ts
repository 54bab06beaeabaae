import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeCommitment } from '../../src/storage/commitment.ts'
import { createEmbeddedModelStore, type EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { ManifestInvalidError, PackageDigestMismatchError, PackageSourceError } from '../../src/storage/errors.ts'
import { canonicalManifestBytes, packageDigest, parseManifest } from '../../src/storage/manifest.ts'
import { addModelPackage, fetchModelPackage, readManifest } from '../../src/storage/package.ts'
import { CHUNK_SIZE } from '../../src/storage/profile.ts'
import { expectSameBytes } from './conformance.ts'
import { makePackageDir } from './fixtures/package-dir.ts'

describe('model packages', () => {
  let root: string
  let store: EmbeddedModelStore
  let files: Record<string, Buffer>
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lattice-pkg-'))
    store = await createEmbeddedModelStore({ datadir: join(root, 'node') })
    files = await makePackageDir(join(root, 'pkg'))
  })
  afterAll(async () => {
    await store.close()
    await rm(root, { recursive: true, force: true })
  })

  it('packs a directory: kinds, parts, sha256s, digest and commitment', async () => {
    const res = await addModelPackage(store, { dir: join(root, 'pkg') }, { partSize: 2 * CHUNK_SIZE, modelType: 'llm' })
    const m = res.manifest
    expect(m.files.map((f) => [f.name, f.kind])).toEqual([
      ['config.json', 'config'],
      ['model.onnx', 'model'],
      ['model.onnx_data', 'external-data'],
      ['tokenizer.json', 'tokenizer'],
    ])
    expect(m.model).toBe('model.onnx')
    expect(m.modelType).toBe('llm')
    const data = m.files.find((f) => f.name === 'model.onnx_data')!
    expect(data.parts.map((p) => p.size)).toEqual([524_288, 524_288, 1_300_000 - 2 * 524_288])
    for (const f of m.files) expect(f.sha256).toBe(createHash('sha256').update(files[f.name]).digest('hex'))
    // digest = keccak256(canonical manifest bytes), and that is what the stored manifest holds
    const { bytes, digest } = await readManifest(store, res.manifestCid, res.digest)
    expect(digest).toBe(res.digest)
    expect(Buffer.from(bytes).equals(Buffer.from(canonicalManifestBytes(m)))).toBe(true)
    expect(packageDigest(bytes)).toBe(res.digest)
    // commitment over the files concatenated in manifest order
    const concat = Buffer.concat(m.files.map((f) => files[f.name]))
    expect(res.commitment).toBe((await computeCommitment([concat])).root)
    expect(m.totalSize).toBe(concat.length)
    // pinned: every part and the manifest
    const pinned = new Set((await store.pins()).map((p) => p.cid))
    for (const f of m.files) for (const p of f.parts) expect(pinned.has(p.cid)).toBe(true)
    expect(pinned.has(res.manifestCid)).toBe(true)
  })

  it('fetches a package back, parts in parallel, byte for byte', async () => {
    const res = await addModelPackage(store, { dir: join(root, 'pkg') }, { partSize: 2 * CHUNK_SIZE })
    const out = join(root, 'out')
    await mkdir(out)
    const events: number[] = []
    const { manifest } = await fetchModelPackage(store, res.manifestCid, res.digest, out, {
      onProgress: (e) => events.push(e.done),
    })
    for (const f of manifest.files) expectSameBytes(await readFile(join(out, f.name)), files[f.name])
    expect(Math.max(...events)).toBe(manifest.totalSize)
  })

  it('refuses a package whose manifest digest does not match', async () => {
    const res = await addModelPackage(store, { dir: join(root, 'pkg') })
    const wrong = `0x${'00'.repeat(31)}01`
    const out = join(root, 'refused')
    await mkdir(out)
    const err = await fetchModelPackage(store, res.manifestCid, wrong, out).catch((e) => e)
    expect(err).toBeInstanceOf(PackageDigestMismatchError)
    expect(err.code).toBe('STORAGE_PACKAGE_DIGEST_MISMATCH')
    expect(err.message).toContain(res.manifestCid)
    // uppercase / unprefixed forms of the right digest are the same digest
    await expect(readManifest(store, res.manifestCid, res.digest.slice(2).toUpperCase())).resolves.toBeTruthy()
  })

  it('refuses manifests that are not canonical, unsafe names, and bad layouts', async () => {
    const res = await addModelPackage(store, { dir: join(root, 'pkg') })
    const good = Buffer.from(canonicalManifestBytes(res.manifest)).toString()
    expect(() => parseManifest(Buffer.from(`${good} `))).toThrow(ManifestInvalidError)
    expect(() => parseManifest(Buffer.from(JSON.stringify(res.manifest, null, 1)))).toThrow(/canonical/)
    const evil = structuredClone(res.manifest)
    evil.files[0].name = '../etc-passwd'
    expect(() => parseManifest(canonicalManifestBytes(evil))).toThrow(/not allowed/)
    const gap = structuredClone(res.manifest)
    gap.totalSize += 1
    expect(() => parseManifest(canonicalManifestBytes(gap))).toThrow(ManifestInvalidError)
    // a plain file is not a manifest
    const { cid } = await store.add(Buffer.from('{"hello":1}'))
    await expect(readManifest(store, cid, undefined)).rejects.toBeInstanceOf(ManifestInvalidError)
  })

  it('refuses directories without a model', async () => {
    const empty = join(root, 'nomodel')
    await mkdir(empty)
    await expect(addModelPackage(store, { dir: empty })).rejects.toBeInstanceOf(PackageSourceError)
  })
})
