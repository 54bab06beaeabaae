import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildModel } from '../../src/inference/builder.ts'
import { checkDeployableModel } from '../../src/inference/deploy-check.ts'
import { ModelCheckError, ModelLoadError } from '../../src/inference/errors.ts'
import {
  assertSelfContained,
  externalTensors,
  inlineExternalData,
  memoryFileReader,
} from '../../src/inference/external-data.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import { decodeModel, encodeModel } from '../../src/inference/proto.ts'
import { EXT_X, externalModel, externalWeights } from '../helpers/external-data.ts'

const weightsFile = externalWeights
const x = EXT_X

describe('external data: models are closed packages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-extdata-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('inlines a package file and runs with the right outputs', async () => {
    const model = externalModel('weights.bin')
    expect(externalTensors(decodeModel(model)).map((e) => e.location)).toEqual(['weights.bin'])
    const inlined = await inlineExternalData(model, memoryFileReader([{ name: 'weights.bin', data: weightsFile() }]))
    expect(externalTensors(decodeModel(inlined))).toEqual([])
    const s = await createConsensusSession({ model: inlined })
    const [y] = await s.run([x])
    await s.dispose()
    expect([...new Float32Array(y.data.slice().buffer)]).toEqual([11, 22, 33, 44])
  })

  it('the deploy check inlines, analyses and loads a package with external data', async () => {
    const r = await checkDeployableModel({
      modelName: 'model.onnx',
      model: externalModel('weights.bin'),
      files: memoryFileReader([{ name: 'weights.bin', data: weightsFile() }]),
    })
    expect(r.analysis.ioSummary).toBe('x:float32[4] -> y:float32[4]')
    expect(r.analysis.flops).toBeGreaterThan(0)
  })

  it('no session loads a model that still names a file on disk (the .env attack)', async () => {
    // a secret with exactly the tensor's size: before the fix ONNX Runtime returned its bytes as outputs
    const secret = join(dir, 'secret.env')
    writeFileSync(secret, new Uint8Array([...new Uint8Array(8), ...new TextEncoder().encode('SECRET=hunter2!!')]))
    for (const loc of [secret, '.env', '../secret.env']) {
      const model = externalModel(loc)
      expect(() => assertSelfContained(model)).toThrow(ModelLoadError)
      await expect(createConsensusSession({ model })).rejects.toThrow(/self-contained/)
    }
  })

  const files = memoryFileReader([
    { name: 'weights.bin', data: weightsFile() },
    { name: 'model.onnx', data: new Uint8Array(4) },
  ])
  const refused: [string, Uint8Array, RegExp][] = [
    ['.env (not a package file name)', externalModel('.env'), /not a file name of the package/],
    ['an absolute path', externalModel('/etc/passwd'), /not a file name of the package/],
    ['a parent path', externalModel('../weights.bin'), /not a file name of the package/],
    ['a sub path', externalModel('sub/weights.bin'), /not a file name of the package/],
    ['a file not in the package', externalModel('other.bin'), /not in the model's package/],
    ['offset past the end', externalModel('weights.bin', { offset: 100 }), /past the end/],
    ['length past the end', externalModel('weights.bin', { offset: 8, length: 1000 }), /outside "weights.bin"/],
    ['length not the tensor size', externalModel('weights.bin', { offset: 0, length: 8 }), /need 16 bytes/],
  ]
  for (const [what, model, message] of refused) {
    it(`refuses external data at ${what}, at deploy and at load`, async () => {
      await expect(inlineExternalData(model, files)).rejects.toThrow(ModelCheckError)
      await expect(checkDeployableModel({ modelName: 'model.onnx', model, files })).rejects.toThrow(message)
      await expect(createConsensusSession({ model })).rejects.toThrow(ModelLoadError)
    })
  }

  it('refuses a 2 GB initializer that holds 4 bytes before loading it', async () => {
    const m = decodeModel(
      buildModel({
        inputs: [{ name: 'x', elemType: 1, shape: [1] }],
        outputs: [{ name: 'y', elemType: 1, shape: [1] }],
        initializers: [{ name: 'big', elemType: 1, dims: [1], data: new Float32Array([1]) }],
        nodes: [{ op: 'Add', inputs: ['x', 'big'], outputs: ['y'] }],
      }),
    )
    m.graph!.initializer![0].dims = [536870912]
    const model = encodeModel(m)
    await expect(checkDeployableModel({ modelName: 'big.onnx', model, files: memoryFileReader([]) })).rejects.toThrow(
      /"big" declares 2147483648 bytes of data but holds 4/,
    )
  })

  it('a model ONNX Runtime cannot load is refused by the consensus load', async () => {
    // float + int64: the FLOP counter is happy, ONNX Runtime's type check is not
    const model = buildModel({
      inputs: [{ name: 'x', elemType: 1, shape: [1] }],
      outputs: [{ name: 'y', elemType: 1, shape: [1] }],
      initializers: [{ name: 'w', elemType: 7, dims: [1], data: new BigInt64Array([1n]) }],
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
    })
    await expect(checkDeployableModel({ modelName: 'bad.onnx', model, files: memoryFileReader([]) })).rejects.toThrow(
      /the consensus runtime cannot load bad\.onnx/,
    )
  })
})
