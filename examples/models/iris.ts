// Tabular classifier: iris species from four flower measurements (cm).
// Linear discriminant analysis with analytically set weights: the class means of Fisher's iris data and a
// pooled per-feature within-class standard deviation give w_k = mu_k / s^2, b_k = -sum(mu_k^2 / (2 s^2)).
import { buildModel, ElemType } from '../../src/inference/builder.ts'

/** Class labels, in output order. */
export const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'] as const

/** Fisher's iris data: per-class means of sepal length, sepal width, petal length, petal width (cm). */
export const IRIS_MEANS: readonly (readonly number[])[] = [
  [5.006, 3.428, 1.462, 0.246],
  [5.936, 2.77, 4.26, 1.326],
  [6.588, 2.974, 5.552, 2.026],
]
/** Pooled within-class standard deviation of each feature. */
export const IRIS_STD: readonly number[] = [0.515, 0.34, 0.43, 0.205]

/** Weights [4, 3] and biases [3] of the discriminant. */
export function irisWeights(): { w: Float32Array; b: Float32Array } {
  const w = new Float32Array(4 * 3)
  const b = new Float32Array(3)
  for (let k = 0; k < 3; k++) {
    let bias = 0
    for (let f = 0; f < 4; f++) {
      const v = IRIS_STD[f] ** 2
      w[f * 3 + k] = IRIS_MEANS[k][f] / v
      bias -= IRIS_MEANS[k][f] ** 2 / (2 * v)
    }
    b[k] = bias
  }
  return { w, b }
}

/** The model: x float32[N,4] -> probabilities float32[N,3] (Softmax) and class int64[N] (ArgMax). */
export function buildIrisModel(): Uint8Array {
  const { w, b } = irisWeights()
  return buildModel({
    name: 'iris-lda',
    docString:
      'Iris species classifier (linear discriminant, analytic weights). Input cm: sepal length, sepal width, petal length, petal width.',
    inputs: [{ name: 'x', elemType: ElemType.float32, shape: ['N', 4] }],
    outputs: [
      { name: 'probabilities', elemType: ElemType.float32, shape: ['N', 3] },
      { name: 'class', elemType: ElemType.int64, shape: ['N'] },
    ],
    initializers: [
      { name: 'W', elemType: ElemType.float32, dims: [4, 3], data: w },
      { name: 'B', elemType: ElemType.float32, dims: [3], data: b },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'B'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: { i: -1 } } },
      { op: 'ArgMax', inputs: ['logits'], outputs: ['class'], attrs: { axis: { i: -1 }, keepdims: { i: 0 } } },
    ],
  })
}
