import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliCommand } from '../../src/cli/command.ts'
import { modelImportHfCommand } from '../../src/cli/commands/model-import-hf.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { exampleModel } from '../helpers/models.ts'
import type { FixtureHub } from './fixtures/hf-hub.ts'
import { FIXTURE_TOKEN, startFixtureHub } from './fixtures/hf-hub.ts'

const enc = (s: string) => new TextEncoder().encode(s)
const IRIS = exampleModel('iris').bytes
const EDGES = exampleModel('edges').bytes
const CONFIG = enc('{"model_type": "iris", "num_labels": 3}\n')
const TOKENIZER = enc('{"version": "1.0", "model": {"type": "WordLevel", "vocab": {"a": 0}}}\n')
const SHA = 'a'.repeat(40)

/** Run a command in-process as commander would (camelCase options), capturing its output. */
async function run(cmd: CliCommand, args: string[], opts: Record<string, unknown>) {
  let stdout = ''
  let stderr = ''
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _e, cb) {
        f(String(chunk))
        cb()
      },
    })
  const io = { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), isTTY: false }
  const code = await cmd.run(args, { accessPolicy: 'public', price: '0', ...opts }, io)
  return { code, stdout, stderr }
}

describe('lattice model import-hf', () => {
  let devnet: TestDevnet
  let hub: FixtureHub
  let work: string
  const base = () => ({ rpcUrl: devnet.url, privateKey: KEY0, json: true, cacheDir: join(work, 'empty-cache') })
  const count = async () => (await rpc(devnet.url, 'lattice_listModels', [])).result.total as number
  const importHf = (repo: string, opts: Record<string, unknown> = {}) =>
    run(modelImportHfCommand, [repo], { ...base(), ...opts })

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lattice-hf-test-'))
    ;[devnet, hub] = await Promise.all([
      startTestDevnet(),
      startFixtureHub([
        {
          id: 'lattice/iris-onnx',
          sha: SHA,
          files: [
            { path: 'onnx/model.onnx', data: IRIS },
            { path: 'onnx/model_quantized.onnx', data: EDGES },
            { path: 'config.json', data: CONFIG },
            { path: 'tokenizer.json', data: TOKENIZER },
            { path: 'README.md', data: enc('# iris\n') },
          ],
        },
        {
          id: 'lattice/private-iris',
          sha: 'b'.repeat(40),
          private: true,
          files: [{ path: 'model.onnx', data: IRIS }],
        },
        {
          id: 'lattice/bert-pytorch',
          sha: 'c'.repeat(40),
          files: [
            { path: 'config.json', data: CONFIG },
            { path: 'model.safetensors', data: new Uint8Array(64) },
          ],
        },
        {
          id: 'lattice/lost-file',
          sha: 'd'.repeat(40),
          files: [{ path: 'onnx/model.onnx', data: IRIS, missing: true }],
        },
        {
          id: 'lattice/flaky',
          sha: 'e'.repeat(40),
          files: [{ path: 'model.onnx', data: IRIS, truncate: true }],
        },
      ]),
    ])
    process.env.HF_ENDPOINT = hub.url
    delete process.env.HF_TOKEN
  })
  afterAll(async () => {
    delete process.env.HF_ENDPOINT
    delete process.env.HF_TOKEN
    await Promise.all([devnet?.stop(), hub?.close()])
    rmSync(work, { recursive: true, force: true })
  })

  it('imports from the Hub with the real client: model info, tree, resolve with redirects; companions packaged', async () => {
    const before = await count()
    const { code, stdout } = await importHf('lattice/iris-onnx')
    expect(code).toBe(0)
    const r = JSON.parse(stdout)
    expect(r.source).toMatchObject({ origin: 'hub', repo: 'lattice/iris-onnx', revision: SHA, file: 'onnx/model.onnx' })
    expect(r.source.files.sort()).toEqual(['config.json', 'model.onnx', 'tokenizer.json'])
    expect(r.name).toBe('lattice/iris-onnx')
    expect(r.version).toBe(SHA.slice(0, 12))
    const m = (await rpc(devnet.url, 'lattice_getModel', [r.modelId])).result
    expect(m).toMatchObject({ name: 'lattice/iris-onnx', cid: r.cid, digest: r.digest, status: 'active' })
    expect(await count()).toBe(before + 1)
    // the client went through the Hub's routes, following the LFS redirect to the CDN
    expect(hub.requests).toContain('GET /api/models/lattice/iris-onnx/revision/main')
    expect(hub.requests).toContain(`GET /api/models/lattice/iris-onnx/tree/${SHA}`)
    expect(hub.requests).toContain(`GET /lattice/iris-onnx/resolve/${SHA}/onnx/model.onnx`)
    expect(hub.requests.some((q) => q.startsWith('GET /cdn/'))).toBe(true)
    // the package holds the bytes the Hub served: the node's model cache returns them by CID and digest
    const bytes = await devnet.modelCache.getModelBytes(r.cid, r.digest)
    expect(Buffer.from(bytes).equals(Buffer.from(IRIS))).toBe(true)
  })

  it('--quantized picks model_quantized.onnx; REPO@REV pins a revision', async () => {
    const { stdout } = await importHf(`lattice/iris-onnx@${SHA}`, { quantized: true, name: 'iris-q' })
    const r = JSON.parse(stdout)
    expect(r.source.file).toBe('onnx/model_quantized.onnx')
    expect(r.io).toContain('image:float32')
  })

  it('honours HF_TOKEN for a private repo', async () => {
    const before = await count()
    await expect(importHf('lattice/private-iris')).rejects.toThrow(/refused access.*HF_TOKEN/)
    expect(await count()).toBe(before)
    process.env.HF_TOKEN = FIXTURE_TOKEN
    try {
      const { code } = await importHf('lattice/private-iris')
      expect(code).toBe(0)
    } finally {
      delete process.env.HF_TOKEN
    }
    expect(await count()).toBe(before + 1)
  })

  it('a repo without ONNX weights says how to export them; nothing is registered', async () => {
    const before = await count()
    await expect(importHf('lattice/bert-pytorch')).rejects.toThrow(/no ONNX weights.*optimum-cli export onnx/)
    expect(await count()).toBe(before)
  })

  it('an unknown repo is a clear 404', async () => {
    await expect(importHf('lattice/does-not-exist')).rejects.toThrow(/not found on http:\/\/127\.0\.0\.1:\d+ \(404\)/)
  })

  it('a missing file (listed, 404 on download) and a wrong --file are clear; nothing is registered', async () => {
    const before = await count()
    await expect(importHf('lattice/lost-file')).rejects.toThrow(/has no onnx\/model\.onnx \(404 on download\)/)
    await expect(importHf('lattice/iris-onnx', { file: 'onnx/model_fp16.onnx' })).rejects.toThrow(
      /has no file "onnx\/model_fp16\.onnx".*onnx\/model\.onnx/,
    )
    expect(await count()).toBe(before)
  })

  it('a truncated download is refused; nothing is registered', async () => {
    const before = await count()
    const pins = (await rpc(devnet.url, 'lattice_pinningSummary', [])).result.pinnedModels
    await expect(importHf('lattice/flaky')).rejects.toThrow(/model\.onnx.*(truncated|broke off)/)
    expect(await count()).toBe(before)
    expect((await rpc(devnet.url, 'lattice_pinningSummary', [])).result.pinnedModels).toBe(pins)
  })

  it('imports a local snapshot directory', async () => {
    const dir = join(work, 'snapshot')
    mkdirSync(join(dir, 'onnx'), { recursive: true })
    writeFileSync(join(dir, 'onnx', 'model.onnx'), IRIS)
    writeFileSync(join(dir, 'config.json'), CONFIG)
    const { stdout } = await importHf(dir, { name: 'iris-local', version: '1' })
    const r = JSON.parse(stdout)
    expect(r.source).toMatchObject({ origin: 'snapshot', file: 'onnx/model.onnx' })
    expect(r.source.files.sort()).toEqual(['config.json', 'model.onnx'])
    expect((await rpc(devnet.url, 'lattice_getModel', [r.modelId])).result.name).toBe('iris-local')
  })

  it('brings external-data files with the model (from the initializers that name them)', async () => {
    const { buildModel } = await import('../../src/inference/builder.ts')
    const { decodeModel, encodeModel } = await import('../../src/inference/proto.ts')
    const weights = new Float32Array([1, 2, 3, 4, 5, 6])
    const m = decodeModel(
      buildModel({
        inputs: [{ name: 'x', elemType: 1, shape: [2, 3] }],
        outputs: [{ name: 'y', elemType: 1, shape: [2, 2] }],
        initializers: [{ name: 'w', elemType: 1, dims: [3, 2], data: weights }],
        nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
      }),
    )
    const w = m.graph!.initializer![0]
    w.rawData = new Uint8Array()
    w.dataLocation = 1
    w.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(weights.byteLength) },
    ]
    const dir = join(work, 'external')
    mkdirSync(join(dir, 'onnx'), { recursive: true })
    writeFileSync(join(dir, 'onnx', 'model.onnx'), encodeModel(m))
    writeFileSync(join(dir, 'onnx', 'model.onnx_data'), new Uint8Array(weights.buffer))
    writeFileSync(join(dir, 'onnx', 'unrelated.bin'), new Uint8Array(8))
    const r = JSON.parse((await importHf(dir, { name: 'external', version: '1' })).stdout)
    expect(r.source.files.sort()).toEqual(['model.onnx', 'model.onnx_data'])
    expect(r.flops).toBe(24)
    const pkg = await devnet.modelCache.getPackage(r.cid, r.digest)
    expect(pkg.manifest.files.map((f) => [f.name, f.kind])).toEqual([
      ['model.onnx', 'model'],
      ['model.onnx_data', 'external-data'],
    ])
    // an external-data file the model names but the snapshot lacks is a clear error
    rmSync(join(dir, 'onnx', 'model.onnx_data'))
    await expect(importHf(dir, { name: 'external', version: '2' })).rejects.toThrow(
      /is missing onnx\/model\.onnx_data, which onnx\/model\.onnx needs/,
    )
  })

  it('imports from the HF cache layout (models--org--name/snapshots/<rev>/, symlinks into blobs/)', async () => {
    const cache = join(work, 'hf-cache')
    const repoDir = join(cache, 'models--acme--iris')
    const rev = 'f'.repeat(40)
    const snap = join(repoDir, 'snapshots', rev)
    mkdirSync(join(snap, 'onnx'), { recursive: true })
    mkdirSync(join(repoDir, 'blobs'), { recursive: true })
    mkdirSync(join(repoDir, 'refs'), { recursive: true })
    writeFileSync(join(repoDir, 'refs', 'main'), rev)
    for (const [path, data] of [
      ['onnx/model.onnx', IRIS],
      ['tokenizer.json', TOKENIZER],
    ] as const) {
      const blob = createHash('sha256').update(data).digest('hex')
      writeFileSync(join(repoDir, 'blobs', blob), data)
      symlinkSync(join(repoDir, 'blobs', blob), join(snap, path))
    }
    // by path to the cache directory
    const a = JSON.parse((await importHf(repoDir, { name: 'iris-cache-a' })).stdout)
    expect(a.source).toMatchObject({ origin: 'cache', repo: 'acme/iris', revision: rev })
    expect(a.source.files.sort()).toEqual(['model.onnx', 'tokenizer.json'])
    // by repo id, found in --cache-dir without touching the network
    const n = hub.requests.length
    const b = JSON.parse((await importHf('acme/iris', { cacheDir: cache, name: 'iris-cache-b' })).stdout)
    expect(b.source).toMatchObject({ origin: 'cache', repo: 'acme/iris', revision: rev })
    expect(b.io).toBe(a.io)
    expect(hub.requests.length).toBe(n)
    // an unknown revision in the cache is a clear error
    await expect(importHf('acme/iris@v9', { cacheDir: cache })).rejects.toThrow(/no snapshot for revision "v9"/)
  })
})
