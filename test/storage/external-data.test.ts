import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { externalTensors } from '../../src/inference/external-data.ts'
import { decodeModel } from '../../src/inference/proto.ts'
import { createModelCache } from '../../src/storage/cache.ts'
import { createEmbeddedModelStore, type EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { addModelPackage } from '../../src/storage/package.ts'
import { EXT_W, externalModel, externalWeights } from '../helpers/external-data.ts'

describe('model cache: external data comes only from the package', () => {
  let root: string
  let store: EmbeddedModelStore
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lattice-cache-ext-'))
    store = await createEmbeddedModelStore({ datadir: join(root, 'node') })
  })
  afterAll(async () => {
    await store?.close()
    await rm(root, { recursive: true, force: true })
  })

  async function pack(name: string, files: Record<string, Uint8Array>) {
    const dir = join(root, name)
    await (await import('node:fs/promises')).mkdir(dir)
    for (const [n, d] of Object.entries(files)) await writeFile(join(dir, n), d)
    return addModelPackage(store, { dir }, { name })
  }

  it('inlines an external-data file of the same package (verified bytes) into the model', async () => {
    const pkg = await pack('good', { 'model.onnx': externalModel('weights.bin'), 'weights.bin': externalWeights() })
    const cache = createModelCache({ dir: join(root, 'cache1'), store })
    const bytes = await cache.getModelBytes(pkg.manifestCid, pkg.digest)
    const m = decodeModel(bytes)
    expect(externalTensors(m)).toEqual([])
    const w = m.graph!.initializer![0]
    expect(Buffer.from(w.rawData!).equals(Buffer.from(EXT_W.buffer))).toBe(true)
    // the data file itself is served as it is
    const data = await cache.getModelBytes(pkg.manifestCid, pkg.digest, { file: 'weights.bin' })
    expect(Buffer.from(data).equals(Buffer.from(externalWeights()))).toBe(true)
  })

  it('never reads a file outside the package: the reference stays and no runtime will load it', async () => {
    // the attack: a secret beside the node's working directory, named by an absolute path and by ".env"
    const secret = join(root, 'secret.env')
    await writeFile(secret, new Uint8Array([...new Uint8Array(8), ...new TextEncoder().encode('SECRET=hunter2!!')]))
    for (const [i, loc] of [secret, '.env', '../secret.env'].entries()) {
      const pkg = await pack(`bad${i}`, { 'model.onnx': externalModel(loc), 'weights.bin': externalWeights() })
      const cache = createModelCache({ dir: join(root, `cache-bad${i}`), store })
      const bytes = await cache.getModelBytes(pkg.manifestCid, pkg.digest)
      expect(Buffer.from(bytes).includes(Buffer.from('hunter2'))).toBe(false)
      expect(externalTensors(decodeModel(bytes)).map((e) => e.location)).toEqual([loc])
    }
  })
})
