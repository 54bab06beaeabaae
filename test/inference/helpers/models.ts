// Small models built in code for the runtime tests: a Loop whose length the caller picks (RPC-path deadlines, where
// runs go) and one whose outputs carry NaN payloads and denormals (canonical output bits).
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

/** Outputs q = x / x and h = x * 0.5: NaNs with payloads and signs from 0 and NaN inputs, denormals kept. */
export function nanModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', elemType: ElemType.float32, shape: [4] }],
    outputs: [
      { name: 'q', elemType: ElemType.float32, shape: [4] },
      { name: 'h', elemType: ElemType.float32, shape: [4] },
    ],
    initializers: [{ name: 'half', elemType: ElemType.float32, dims: [], data: new Float32Array([0.5]) }],
    nodes: [
      { op: 'Div', inputs: ['x', 'x'], outputs: ['q'] },
      { op: 'Mul', inputs: ['x', 'half'], outputs: ['h'] },
    ],
  })
}
