// A Loop model whose trip count is an input: a run as long as the caller likes, for a tiny model (the tests of
// RPC-path deadlines and of where runs go).
import { buildModel, ElemType } from '../../../src/inference/builder.ts'

/** A Loop whose trip count is an input: y = x + x + ... (trips times). */
export function loopModel(): Uint8Array {
  return buildModel({
    inputs: [
      { name: 'trips', elemType: ElemType.int64, shape: [] },
      { name: 'x', elemType: ElemType.float32, shape: [1] },
    ],
    outputs: [{ name: 'y', elemType: ElemType.float32, shape: [1] }],
    initializers: [{ name: 'cond', elemType: ElemType.bool, dims: [], data: new Uint8Array([1]) }],
    nodes: [
      {
        op: 'Loop',
        inputs: ['trips', 'cond', 'x'],
        outputs: ['y'],
        attrs: {
          body: {
            g: {
              name: 'body',
              inputs: [
                { name: 'i', elemType: ElemType.int64, shape: [] },
                { name: 'c', elemType: ElemType.bool, shape: [] },
                { name: 'acc', elemType: ElemType.float32, shape: [1] },
              ],
              outputs: [
                { name: 'c_out', elemType: ElemType.bool, shape: [] },
                { name: 'acc_out', elemType: ElemType.float32, shape: [1] },
              ],
              nodes: [
                { op: 'Identity', inputs: ['c'], outputs: ['c_out'] },
                { op: 'Add', inputs: ['acc', 'x'], outputs: ['acc_out'] },
              ],
            },
          },
        },
      },
    ],
  })
}
