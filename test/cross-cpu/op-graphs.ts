// Small graphs, one per op family whose native kernels MLAS picks by CPU features (GEMM, convolution,
// normalisation, transcendental functions) plus index/resampling/reduction ops. Inputs span magnitudes from
// 1e-3 to 1e2 and include values whose results fall into the float32 denormal range, where kernels differ most.
import { pattern } from '../../examples/models/index.ts'
import { buildModel, ElemType, type Initializer, type NodeSpec } from '../../src/inference/builder.ts'
import { DType, type Tensor, tensorFromValues } from '../../src/inference/tensor.ts'

/** A graph for the cross-CPU chain: model bytes and one input. */
export interface OpGraph {
  name: string
  bytes: Uint8Array
  input: Tensor[]
}

const F = ElemType.float32

function weights(name: string, dims: number[], seed: number, scale = 1): Initializer {
  const n = dims.reduce((a, b) => a * b, 1)
  return { name, elemType: F, dims, data: new Float32Array(pattern(n, seed).map((v) => (v - 0.5) * scale)) }
}

function input(name: string, shape: number[], seed: number, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1)
  return tensorFromValues(
    name,
    DType.float32,
    shape,
    pattern(n, seed).map((v) => (v - 0.5) * scale),
  )
}

function graph(
  name: string,
  x: number[],
  y: number[],
  nodes: NodeSpec[],
  initializers: Initializer[],
  inp: Tensor,
  opset = 17,
): OpGraph {
  return {
    name,
    bytes: buildModel({
      name,
      opset,
      inputs: [{ name: 'x', elemType: F, shape: x }],
      outputs: [{ name: 'y', elemType: F, shape: y }],
      nodes,
      initializers,
    }),
    input: [inp],
  }
}

/** The op-family graphs (each runs in well under a second on the host under WebAssembly). */
export function opGraphs(): OpGraph[] {
  return [
    // GEMM: a long reduction (K = 1000) where accumulation order shows in the last bits
    graph(
      'op-matmul',
      [4, 1000],
      [4, 64],
      [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
      [weights('W', [1000, 64], 11, 2)],
      input('x', [4, 1000], 12, 20),
    ),
    graph(
      'op-gemm',
      [8, 96],
      [8, 48],
      [{ op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { transB: { i: 1 }, alpha: { f: 0.7 } } }],
      [weights('W', [48, 96], 13, 1), weights('B', [48], 14, 50)],
      input('x', [8, 96], 15, 8),
    ),
    graph(
      'op-conv',
      [1, 3, 24, 24],
      [1, 8, 24, 24],
      [{ op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { pads: { ints: [1, 1, 1, 1] } } }],
      [weights('W', [8, 3, 3, 3], 16, 1), weights('B', [8], 17, 0.1)],
      input('x', [1, 3, 24, 24], 18, 4),
    ),
    graph(
      'op-depthwise-conv',
      [1, 16, 20, 20],
      [1, 16, 20, 20],
      [
        {
          op: 'Conv',
          inputs: ['x', 'W'],
          outputs: ['y'],
          attrs: { group: { i: 16 }, pads: { ints: [1, 1, 1, 1] } },
        },
      ],
      [weights('W', [16, 1, 3, 3], 19, 1)],
      input('x', [1, 16, 20, 20], 20, 4),
    ),
    graph(
      'op-layernorm',
      [6, 128],
      [6, 128],
      [{ op: 'LayerNormalization', inputs: ['x', 'S', 'B'], outputs: ['y'], attrs: { axis: { i: -1 } } }],
      [weights('S', [128], 21, 2), weights('B', [128], 22, 1)],
      input('x', [6, 128], 23, 30),
    ),
    // softmax over logits spread widely: tail probabilities land in the denormal range (iris's split)
    graph(
      'op-softmax',
      [4, 50],
      [4, 50],
      [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: { i: -1 } } }],
      [],
      input('x', [4, 50], 24, 200),
    ),
    graph(
      'op-erf-tanh-exp',
      [512],
      [512],
      [
        { op: 'Erf', inputs: ['x'], outputs: ['e'] },
        { op: 'Tanh', inputs: ['x'], outputs: ['t'] },
        { op: 'Exp', inputs: ['x'], outputs: ['x2'] },
        { op: 'Add', inputs: ['e', 't'], outputs: ['et'] },
        { op: 'Mul', inputs: ['et', 'x2'], outputs: ['y'] },
      ],
      [],
      input('x', [512], 25, 180),
    ),
    graph(
      'op-gather',
      [40, 8],
      [6, 8],
      [{ op: 'Gather', inputs: ['x', 'I'], outputs: ['y'], attrs: { axis: { i: 0 } } }],
      [{ name: 'I', elemType: ElemType.int64, dims: [6], data: new BigInt64Array([3n, 0n, 39n, 17n, 17n, -1n]) }],
      input('x', [40, 8], 26, 10),
    ),
    graph(
      'op-resize',
      [1, 2, 7, 9],
      [1, 2, 16, 20],
      [{ op: 'Resize', inputs: ['x', '', '', 'S'], outputs: ['y'], attrs: { mode: { s: 'linear' } } }],
      [{ name: 'S', elemType: ElemType.int64, dims: [4], data: new BigInt64Array([1n, 2n, 16n, 20n]) }],
      input('x', [1, 2, 7, 9], 27, 6),
    ),
    graph(
      'op-reduce',
      [3, 64, 32],
      [3],
      [
        { op: 'ReduceSumSquare', inputs: ['x', 'A'], outputs: ['s'], attrs: { keepdims: { i: 0 } } },
        { op: 'ReduceMean', inputs: ['x', 'A'], outputs: ['m'], attrs: { keepdims: { i: 0 } } },
        { op: 'Add', inputs: ['s', 'm'], outputs: ['y'] },
      ],
      [{ name: 'A', elemType: ElemType.int64, dims: [2], data: new BigInt64Array([1n, 2n]) }],
      input('x', [3, 64, 32], 28, 3),
      18,
    ),
  ]
}
