import { buildModel } from '../../src/inference/builder.ts'
import { decodeModel, encodeModel } from '../../src/inference/proto.ts'
import { DType } from '../../src/inference/tensor.ts'

/** The weights the external-data models keep outside the .onnx file. */
export const EXT_W = new Float32Array([10, 20, 30, 40])

/** y = x + w (float32[4]) with w kept in an external-data file at `location` (default offset 8, length 16). */
export function externalModel(location: string, opts: { offset?: number; length?: number } = {}): Uint8Array {
  const m = decodeModel(
    buildModel({
      inputs: [{ name: 'x', elemType: 1, shape: [4] }],
      outputs: [{ name: 'y', elemType: 1, shape: [4] }],
      initializers: [{ name: 'w', elemType: 1, dims: [4], data: EXT_W }],
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
    }),
  )
  const w = m.graph!.initializer![0]
  w.rawData = new Uint8Array()
  w.dataLocation = 1
  w.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: String(opts.offset ?? 8) },
    { key: 'length', value: String(opts.length ?? 16) },
  ]
  return encodeModel(m)
}

/** The external-data file of {@link externalModel}: 8 bytes of padding, then w. */
export function externalWeights(): Uint8Array {
  return new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, ...new Uint8Array(EXT_W.buffer.slice(0))])
}

/** The input x = [1, 2, 3, 4]; y is then [11, 22, 33, 44]. */
export const EXT_X = {
  name: 'x',
  dtype: DType.float32,
  shape: [4],
  data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer),
}
