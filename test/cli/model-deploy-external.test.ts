// `lattice model deploy` with external data: the package's own data file deploys and runs (the load check runs
// with it, not skipped); a model naming a file outside its package is refused before anything is uploaded.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelDeployCommand } from '../../src/cli/commands/model-deploy.ts'
import { buildModel } from '../../src/inference/builder.ts'
import { runCommand } from '../helpers/cli.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { externalModel, externalWeights } from '../helpers/external-data.ts'

const run = runCommand

describe('lattice model deploy: external data stays inside the package', () => {
  let devnet: TestDevnet
  const dir = mkdtempSync(join(tmpdir(), 'lattice-cli-ext-'))
  beforeAll(async () => {
    devnet = await startTestDevnet()
  }, 180_000)
  afterAll(async () => {
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('deploys a model with its weights file and runs it with the right outputs', async () => {
    const d = join(dir, 'good')
    mkdirSync(d)
    writeFileSync(join(d, 'model.onnx'), externalModel('model.onnx_data'))
    writeFileSync(join(d, 'model.onnx_data'), externalWeights())
    const { stdout } = await run(modelDeployCommand, {
      rpcUrl: devnet.url,
      json: true,
      model: join(d, 'model.onnx'),
      name: 'ext',
      privateKey: KEY0,
    })
    const r = JSON.parse(stdout)
    const out = await rpc(devnet.url, 'lattice_infer', [{ modelId: r.modelId, inputs: { x: [1, 2, 3, 4] } }])
    expect(out.result.outputs.y.data).toEqual([11, 22, 33, 44])
  })

  it('refuses, before uploading, a model that names a file outside its package or one it cannot load', async () => {
    const d = join(dir, 'bad')
    mkdirSync(d)
    writeFileSync(join(d, '.env'), new Uint8Array(24))
    writeFileSync(join(d, 'model.onnx'), externalModel('.env'))
    await expect(
      run(modelDeployCommand, {
        rpcUrl: devnet.url,
        json: true,
        model: join(d, 'model.onnx'),
        name: 'env',
        privateKey: KEY0,
      }),
    ).rejects.toThrow(/tensor "w" keeps its data in "\.env", which is not a file name of the package/)
    // a weights file present, but a graph the consensus runtime cannot load (float + int64)
    const e = join(dir, 'unloadable')
    mkdirSync(e)
    writeFileSync(
      join(e, 'bad.onnx'),
      buildModel({
        inputs: [{ name: 'x', elemType: 1, shape: [1] }],
        outputs: [{ name: 'y', elemType: 1, shape: [1] }],
        initializers: [{ name: 'w', elemType: 7, dims: [1], data: new BigInt64Array([1n]) }],
        nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      }),
    )
    writeFileSync(join(e, 'bad.onnx_data'), new Uint8Array(8))
    await expect(
      run(modelDeployCommand, { rpcUrl: devnet.url, json: true, model: e, name: 'bad', privateKey: KEY0 }),
    ).rejects.toThrow(/the consensus runtime cannot load bad\.onnx/)
    expect((await rpc(devnet.url, 'lattice_listModels', [])).result.models.map((m: any) => m.name)).toEqual(['ext'])
  })
})
