// Image processor: RGB -> grayscale (ITU-R BT.601 luma) -> Sobel gradient magnitude.
// Three convolutions with analytic weights; works on any image size.
import { buildModel, ElemType } from '../../src/inference/builder.ts'

/** Sobel kernels (x then y), 3x3 each. */
export const SOBEL = [
  [-1, 0, 1, -2, 0, 2, -1, 0, 1],
  [-1, -2, -1, 0, 0, 0, 1, 2, 1],
]

/** The model: image float32[1,3,H,W] in [0,1] -> gray float32[1,1,H,W] and edges float32[1,1,H,W]. */
export function buildEdgeModel(): Uint8Array {
  return buildModel({
    name: 'sobel-edges',
    docString: 'Grayscale + Sobel edge magnitude. Input: RGB image, NCHW, values in [0, 1].',
    inputs: [{ name: 'image', elemType: ElemType.float32, shape: [1, 3, 'H', 'W'] }],
    outputs: [
      { name: 'gray', elemType: ElemType.float32, shape: [1, 1, 'H', 'W'] },
      { name: 'edges', elemType: ElemType.float32, shape: [1, 1, 'H', 'W'] },
    ],
    initializers: [
      { name: 'luma', elemType: ElemType.float32, dims: [1, 3, 1, 1], data: new Float32Array([0.299, 0.587, 0.114]) },
      { name: 'sobel', elemType: ElemType.float32, dims: [2, 1, 3, 3], data: new Float32Array(SOBEL.flat()) },
      { name: 'axes', elemType: ElemType.int64, dims: [1], data: new BigInt64Array([1n]) },
    ],
    nodes: [
      { op: 'Conv', inputs: ['image', 'luma'], outputs: ['gray'], attrs: { kernel_shape: { ints: [1, 1] } } },
      {
        op: 'Conv',
        inputs: ['gray', 'sobel'],
        outputs: ['grad'],
        attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
      },
      { op: 'Mul', inputs: ['grad', 'grad'], outputs: ['sq'] },
      { op: 'ReduceSum', inputs: ['sq', 'axes'], outputs: ['sumsq'], attrs: { keepdims: { i: 1 } } },
      { op: 'Sqrt', inputs: ['sumsq'], outputs: ['edges'] },
    ],
  })
}
