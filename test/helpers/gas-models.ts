// Model recipes for gas: one small graph per op family (bench/gas.ts calibrates on them) and the adversarial
// graphs of test/precompiles/adversarial-vectors.json. A recipe is a name plus numeric parameters, so a
// vector file can name the model it means without carrying its bytes.
import { buildModel, ElemType, type Initializer, type NodeSpec } from '../../src/inference/builder.ts'

const f32 = ElemType.float32
const i64 = ElemType.int64
const ints = (name: string, values: number[]): Initializer => ({
  name,
  elemType: i64,
  dims: [values.length],
  data: new BigInt64Array(values.map(BigInt)),
})
const floats = (name: string, dims: number[], fill = 0.5): Initializer => ({
  name,
  elemType: f32,
  dims,
  data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill),
})

/** A single-input float graph: x[shape] -> y. */
function unaryGraph(
  shape: number[],
  nodes: NodeSpec[],
  opts: { inits?: ReturnType<typeof ints>[]; outShape?: (number | string)[] } = {},
) {
  return buildModel({
    inputs: [{ name: 'x', elemType: f32, shape }],
    outputs: [{ name: 'y', elemType: f32, shape: opts.outShape ?? [] }],
    initializers: opts.inits,
    nodes,
  })
}

/** Recipes by name; `p` holds the recipe's numeric parameters. */
export const RECIPES: Record<string, (p: Record<string, number>) => Uint8Array> = {
  /** y = x @ W: x[m,k], W[k,n]. */
  matmul: ({ m, k, n }) =>
    buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: [m, k] }],
      outputs: [{ name: 'y', elemType: f32, shape: [m, n] }],
      initializers: [floats('w', [k, n], 0.01)],
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    }),
  /** 3x3 convolution, c channels in and out, padded: x[1,c,h,w]. */
  conv: ({ c, h, w }) =>
    buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: [1, c, h, w] }],
      outputs: [{ name: 'y', elemType: f32, shape: [1, c, h, w] }],
      initializers: [floats('w', [c, c, 3, 3], 0.01)],
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'w'],
          outputs: ['y'],
          attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
        },
      ],
    }),
  /** `op` applied element-wise `depth` times in a chain over x[n] (op: 0 Add, 1 Relu, 2 Exp, 3 Tanh, 4 Erf, 5 Sigmoid). */
  chain: ({ n, depth, op }) => {
    const name = ['Add', 'Relu', 'Exp', 'Tanh', 'Erf', 'Sigmoid'][op]
    const nodes: NodeSpec[] = []
    for (let i = 0; i < depth; i++) {
      const a = i === 0 ? 'x' : `t${i}`
      const out = i === depth - 1 ? 'y' : `t${i + 1}`
      nodes.push({ op: name, inputs: name === 'Add' ? [a, a] : [a], outputs: [out] })
    }
    return unaryGraph([n], nodes, { outShape: [n] })
  },
  /** ReduceSum over the last axis of x[r,c]. */
  reduce: ({ r, c }) =>
    unaryGraph([r, c], [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attrs: { keepdims: { i: 0 } } }], {
      inits: [ints('axes', [1])],
      outShape: [r],
    }),
  /** 3x3 MaxPool, stride 1, padded: x[1,c,h,w]. */
  maxpool: ({ c, h, w }) =>
    unaryGraph(
      [1, c, h, w],
      [
        {
          op: 'MaxPool',
          inputs: ['x'],
          outputs: ['y'],
          attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
        },
      ],
      { outShape: [1, c, h, w] },
    ),
  /** Softmax over the last axis of x[r,c]. */
  softmax: ({ r, c }) =>
    unaryGraph([r, c], [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: { i: -1 } } }], {
      outShape: [r, c],
    }),
  /** LayerNormalization over the last axis of x[r,c]. */
  layernorm: ({ r, c }) =>
    buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: [r, c] }],
      outputs: [{ name: 'y', elemType: f32, shape: [r, c] }],
      initializers: [floats('g', [c], 1), floats('b', [c], 0)],
      nodes: [{ op: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['y'], attrs: { axis: { i: -1 } } }],
    }),
  /** Transpose x[r,c] -> [c,r]. */
  transpose: ({ r, c }) =>
    unaryGraph([r, c], [{ op: 'Transpose', inputs: ['x'], outputs: ['y'] }], { outShape: [c, r] }),
  /** Tile x[r,c] `times` along axis 0. */
  tile: ({ r, c, times }) =>
    unaryGraph([r, c], [{ op: 'Tile', inputs: ['x', 'reps'], outputs: ['y'] }], {
      inits: [ints('reps', [times, 1])],
      outShape: [r * times, c],
    }),
  /** Concat x[r,c] with itself `times` times along axis 0. */
  concat: ({ r, c, times }) =>
    unaryGraph(
      [r, c],
      [{ op: 'Concat', inputs: new Array(times).fill('x'), outputs: ['y'], attrs: { axis: { i: 0 } } }],
      { outShape: [r * times, c] },
    ),
  /** Gather `k` rows of a table[rows,c] (indices 0..k-1 as a constant) into y[k,c]. */
  gather: ({ rows, c, k }) =>
    unaryGraph([rows, c], [{ op: 'Gather', inputs: ['x', 'idx'], outputs: ['y'], attrs: { axis: { i: 0 } } }], {
      inits: [
        ints(
          'idx',
          Array.from({ length: k }, (_, i) => (i * 7919) % rows),
        ),
      ],
      outShape: [k, c],
    }),
  /** Slice the first half of the rows of x[r,c]. */
  slice: ({ r, c }) =>
    unaryGraph([r, c], [{ op: 'Slice', inputs: ['x', 'starts', 'ends', 'axes'], outputs: ['y'] }], {
      inits: [ints('starts', [0]), ints('ends', [r / 2]), ints('axes', [0])],
      outShape: [r / 2, c],
    }),
  /** Pad x[r,c] by `pad` on every side. */
  pad: ({ r, c, pad }) =>
    unaryGraph([r, c], [{ op: 'Pad', inputs: ['x', 'pads'], outputs: ['y'] }], {
      inits: [ints('pads', [pad, pad, pad, pad])],
      outShape: [r + 2 * pad, c + 2 * pad],
    }),
  /** `depth` Reshapes alternating x[r,c] and [c,r]. */
  reshapeChain: ({ r, c, depth }) => {
    const nodes: NodeSpec[] = []
    for (let i = 0; i < depth; i++) {
      const a = i === 0 ? 'x' : `t${i}`
      const out = i === depth - 1 ? 'y' : `t${i + 1}`
      nodes.push({ op: 'Reshape', inputs: [a, i % 2 ? 'rc' : 'cr'], outputs: [out] })
    }
    return unaryGraph([r, c], nodes, { inits: [ints('rc', [r, c]), ints('cr', [c, r])], outShape: ['a', 'b'] })
  },
  /** Resize x[1,c,h,w] by `scale` in both spatial dims (nearest). */
  resize: ({ c, h, w, scale }) =>
    buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: [1, c, h, w] }],
      outputs: [{ name: 'y', elemType: f32, shape: ['n', 'c', 'h', 'w'] }],
      initializers: [{ name: 'scales', elemType: f32, dims: [4], data: new Float32Array([1, 1, scale, scale]) }],
      nodes: [{ op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['y'], attrs: { mode: { s: 'nearest' } } }],
    }),
  /** x[1,c,1,1] expanded to [1,c,h,w], `depth` padded 3x3 convolutions (c channels in and out), summed. */
  convChain: ({ c, h, w, depth }) => {
    const nodes: NodeSpec[] = [{ op: 'Expand', inputs: ['x', 'full'], outputs: ['t0'] }]
    for (let i = 0; i < depth; i++)
      nodes.push({
        op: 'Conv',
        inputs: [`t${i}`, 'w'],
        outputs: [`t${i + 1}`],
        attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
      })
    nodes.push({ op: 'ReduceSum', inputs: [`t${depth}`], outputs: ['y'], attrs: { keepdims: { i: 0 } } })
    return unaryGraph([1, c, 1, 1], nodes, { inits: [ints('full', [1, c, h, w]), floats('w', [c, c, 3, 3], 0.01)] })
  },
  /** x[1,c] expanded to [r,c] inside, then `depth` pairs of Reshapes ([r*c] and back), summed. */
  expandReshapeChain: ({ r, c, depth }) => familyModel('reshape', { rows: r, cols: c, depth }),
  /** Range(0, limit, 1) whose limit is computed from float data (Cast of x[1]): no call can bound it. */
  rangeFromData: () =>
    buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: [1] }],
      outputs: [{ name: 'y', elemType: i64, shape: ['n'] }],
      initializers: [
        { name: 'start', elemType: i64, dims: [], data: new BigInt64Array([0n]) },
        { name: 'delta', elemType: i64, dims: [], data: new BigInt64Array([1n]) },
        ints('scalar', []),
      ],
      nodes: [
        { op: 'Cast', inputs: ['x'], outputs: ['xi'], attrs: { to: { i: i64 } } },
        { op: 'Reshape', inputs: ['xi', 'scalar'], outputs: ['limit'] },
        { op: 'Range', inputs: ['start', 'limit', 'delta'], outputs: ['y'] },
      ],
    }),
  /** x[1,c,1,1] expanded to [1,c,h,w], `depth` padded 3x3 MaxPools, summed. */
  poolChain: ({ c, h, w, depth }) => {
    const nodes: NodeSpec[] = [{ op: 'Expand', inputs: ['x', 'full'], outputs: ['t0'] }]
    for (let i = 0; i < depth; i++)
      nodes.push({
        op: 'MaxPool',
        inputs: [`t${i}`],
        outputs: [`t${i + 1}`],
        attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
      })
    nodes.push({ op: 'ReduceSum', inputs: [`t${depth}`], outputs: ['y'], attrs: { keepdims: { i: 0 } } })
    return unaryGraph([1, c, 1, 1], nodes, { inits: [ints('full', [1, c, h, w])] })
  },
  /** Resize x[1,c,h,w] by `scale` (nearest), then sum it to one number. */
  resizeSum: ({ c, h, w, scale }) =>
    buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: [1, c, h, w] }],
      outputs: [{ name: 'y', elemType: f32, shape: [] }],
      initializers: [{ name: 'scales', elemType: f32, dims: [4], data: new Float32Array([1, 1, scale, scale]) }],
      nodes: [
        { op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['r'], attrs: { mode: { s: 'nearest' } } },
        { op: 'ReduceSum', inputs: ['r'], outputs: ['y'], attrs: { keepdims: { i: 0 } } },
      ],
    }),
  /** Tile x[r,c] `times` along axis 0, transpose, slice back the first r columns: y[c,r]. */
  tileTransposeSlice: ({ r, c, times }) =>
    unaryGraph(
      [r, c],
      [
        { op: 'Tile', inputs: ['x', 'reps'], outputs: ['tiled'] },
        { op: 'Transpose', inputs: ['tiled'], outputs: ['t'] },
        { op: 'Slice', inputs: ['t', 'starts', 'ends', 'axes'], outputs: ['y'] },
      ],
      {
        inits: [ints('reps', [times, 1]), ints('starts', [0]), ints('ends', [r]), ints('axes', [1])],
        outShape: [c, r],
      },
    ),
  /**
   * `nodes - 1` 1x1 convolutions over x[1,4,2,2] (an op whose shape rule is among the costliest to count), then an
   * Expand to 1e9 elements: refused by the memory bound at its last node, after counting every other one (what
   * the base and the counting gas pay for).
   */
  refusedChain: ({ nodes }) => {
    const chain: NodeSpec[] = []
    for (let i = 1; i < nodes; i++) {
      chain.push({ op: 'Conv', inputs: [i === 1 ? 'x' : `t${i - 1}`, 'w'], outputs: [`t${i}`] })
    }
    chain.push({ op: 'Expand', inputs: [nodes > 1 ? `t${nodes - 1}` : 'x', 'big'], outputs: ['y'] })
    return unaryGraph([1, 4, 2, 2], chain, {
      inits: [ints('big', [15_625_000, 4, 2, 2]), floats('w', [4, 4, 1, 1], 0.25)],
      outShape: [15_625_000, 4, 2, 2],
    })
  },
  /** Expand x[1] to [n] (n a constant). */
  expand: ({ n }) =>
    unaryGraph([1], [{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['y'] }], {
      inits: [ints('shape', [n])],
      outShape: [n],
    }),
  /** ConstantOfShape whose shape is the model's int64 input `shape` (y = zeros(shape)). */
  constantOfShape: () =>
    buildModel({
      inputs: [{ name: 'shape', elemType: i64, shape: [1] }],
      outputs: [{ name: 'y', elemType: f32, shape: ['n'] }],
      nodes: [{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['y'] }],
    }),
  /** Range(0, limit, 1) with `limit` the model's int64 scalar input. */
  range: () =>
    buildModel({
      inputs: [{ name: 'limit', elemType: i64, shape: [] }],
      outputs: [{ name: 'y', elemType: i64, shape: ['n'] }],
      initializers: [
        { name: 'start', elemType: i64, dims: [], data: new BigInt64Array([0n]) },
        { name: 'delta', elemType: i64, dims: [], data: new BigInt64Array([1n]) },
      ],
      nodes: [{ op: 'Range', inputs: ['start', 'limit', 'delta'], outputs: ['y'] }],
    }),
  /** Loop of `trips` iterations whose body adds x[n] to a carried value. */
  loop: ({ n, trips }) =>
    buildModel({
      inputs: [{ name: 'x', elemType: f32, shape: [n] }],
      outputs: [{ name: 'y', elemType: f32, shape: [n] }],
      initializers: [
        { name: 'trips', elemType: i64, dims: [], data: new BigInt64Array([BigInt(trips)]) },
        { name: 'cond', elemType: ElemType.bool, dims: [], data: new Uint8Array([1]) },
      ],
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
                  { name: 'i', elemType: i64, shape: [] },
                  { name: 'c', elemType: ElemType.bool, shape: [] },
                  { name: 'acc', elemType: f32, shape: [n] },
                ],
                outputs: [
                  { name: 'c_out', elemType: ElemType.bool, shape: [] },
                  { name: 'acc_out', elemType: f32, shape: [n] },
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
    }),
}

/** The model bytes of a recipe. */
export function recipeModel(recipe: string, params: Record<string, number> = {}): Uint8Array {
  const build = RECIPES[recipe]
  if (!build) throw new TypeError(`no gas model recipe "${recipe}" (have: ${Object.keys(RECIPES).join(', ')})`)
  return build(params)
}

/** Bodies of {@link familyModel}: the op(s) one step of the chain applies to t[rows, cols]. */
const FAMILY_STEPS: Record<string, (t: string, out: string, rows: number, cols: number) => NodeSpec[]> = {
  matmul: (t, out) => [{ op: 'MatMul', inputs: [t, 'w'], outputs: [out] }],
  add: (t, out) => [{ op: 'Add', inputs: [t, t], outputs: [out] }],
  mul: (t, out) => [{ op: 'Mul', inputs: [t, 'half'], outputs: [out] }],
  relu: (t, out) => [{ op: 'Relu', inputs: [t], outputs: [out] }],
  tanh: (t, out) => [{ op: 'Tanh', inputs: [t], outputs: [out] }],
  erf: (t, out) => [{ op: 'Erf', inputs: [t], outputs: [out] }],
  sigmoid: (t, out) => [{ op: 'Sigmoid', inputs: [t], outputs: [out] }],
  softmax: (t, out) => [{ op: 'Softmax', inputs: [t], outputs: [out], attrs: { axis: { i: -1 } } }],
  layernorm: (t, out) => [
    { op: 'LayerNormalization', inputs: [t, 'g', 'b'], outputs: [out], attrs: { axis: { i: -1 } } },
  ],
  reducesum: (t, out) => [
    { op: 'ReduceSum', inputs: [t, 'ax1'], outputs: [`${out}_r`], attrs: { keepdims: { i: 1 } } },
    { op: 'Add', inputs: [t, `${out}_r`], outputs: [out] },
  ],
  reducemax: (t, out) => [
    { op: 'ReduceMax', inputs: [t], outputs: [`${out}_r`], attrs: { keepdims: { i: 1 }, axes: { ints: [1] } } },
    { op: 'Sub', inputs: [t, `${out}_r`], outputs: [out] },
  ],
  transpose: (t, out) => [
    { op: 'Transpose', inputs: [t], outputs: [`${out}_t`] },
    { op: 'Transpose', inputs: [`${out}_t`], outputs: [out] },
  ],
  slicepad: (t, out) => [
    { op: 'Slice', inputs: [t, 's0', 's1', 'ax0'], outputs: [`${out}_s`] },
    { op: 'Pad', inputs: [`${out}_s`, 'p1'], outputs: [out] },
  ],
  concatsplit: (t, out) => [
    { op: 'Concat', inputs: [t, t], outputs: [`${out}_c`], attrs: { axis: { i: 0 } } },
    { op: 'Split', inputs: [`${out}_c`, 'halves'], outputs: [out, `${out}_x`], attrs: { axis: { i: 0 } } },
  ],
  tileslice: (t, out) => [
    { op: 'Tile', inputs: [t, 'reps2'], outputs: [`${out}_t`] },
    { op: 'Slice', inputs: [`${out}_t`, 's0', 's1', 'ax0'], outputs: [`${out}_s`] },
    { op: 'Pad', inputs: [`${out}_s`, 'p1'], outputs: [out] },
  ],
  gather: (t, out) => [{ op: 'Gather', inputs: [t, 'perm'], outputs: [out], attrs: { axis: { i: 0 } } }],
  reshape: (t, out) => [
    { op: 'Reshape', inputs: [t, 'flat'], outputs: [`${out}_f`] },
    { op: 'Reshape', inputs: [`${out}_f`, 'rc'], outputs: [out] },
  ],
}

/**
 * A calibration graph: x[1, cols] is expanded to [rows, cols] inside the model, `depth` steps of one op family
 * run over it, and a ReduceSum returns one number, so the call's input and output are tiny and its time is the
 * family's work. Steps: see FAMILY_STEPS.
 */
export function familyModel(step: string, p: { rows: number; cols: number; depth: number }): Uint8Array {
  const { rows, cols, depth } = p
  const make = FAMILY_STEPS[step]
  if (!make) throw new TypeError(`no family step "${step}" (have: ${Object.keys(FAMILY_STEPS).join(', ')})`)
  const nodes: NodeSpec[] = [{ op: 'Expand', inputs: ['x', 'full'], outputs: ['t0'] }]
  for (let i = 0; i < depth; i++) nodes.push(...make(`t${i}`, `t${i + 1}`, rows, cols))
  nodes.push({ op: 'ReduceSum', inputs: [`t${depth}`], outputs: ['y'], attrs: { keepdims: { i: 0 } } })
  return buildModel({
    inputs: [{ name: 'x', elemType: f32, shape: [1, cols] }],
    outputs: [{ name: 'y', elemType: f32, shape: [] }],
    initializers: [
      ints('full', [rows, cols]),
      ints('ax1', [1]),
      ints('ax0', [0]),
      ints('s0', [1]),
      ints('s1', [rows]),
      ints('p1', [0, 0, 1, 0]),
      ints('reps2', [2, 1]),
      ints('halves', [rows, rows]),
      ints('flat', [rows * cols]),
      ints('rc', [rows, cols]),
      ints(
        'perm',
        Array.from({ length: rows }, (_, i) => (i * 7919) % rows),
      ),
      ...(step === 'matmul' ? [floats('w', [cols, cols], 1 / cols)] : []),
      floats('half', [1], 0.5),
      floats('g', [cols], 1),
      floats('b', [cols], 0),
    ],
    nodes,
  })
}
