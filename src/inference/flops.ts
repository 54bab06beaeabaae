// Static FLOP counter: shape inference over the ONNX graph with concrete input shapes, then a per-node rule.
// docs/flops.md lists every rule; the precompile charges gas from `flops`.
import { fmtShape, ShapeArgError, UnknownInputError, UnshapedInputError, UnsupportedOpError } from './errors.ts'
import {
  Attrs,
  decodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  num,
  opsetOf,
  protoDims,
  protoValues,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts'

/** Result of {@link countFlops}. */
export interface FlopReport {
  /** Gas-relevant total: 2 per MAC plus the per-element rules. */
  flops: number
  /** Multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul, MatMul-like, RNN and attention ops only. */
  macs: number
  /** Elements of every initializer and Constant tensor (weights, biases, BN statistics, shape constants). */
  params: number
  /** Per op type: node count, FLOPs and MACs. */
  byOp: Record<string, { count: number; flops: number; macs: number }>
  /** Inferred shape of every graph output. */
  outputShapes: Record<string, number[]>
}

/** Concrete shape (and optionally values, for shape-deciding integer inputs) of one graph input. */
export type InputShape = number[] | { shape: number[]; values?: ArrayLike<number | bigint> }

/** Options of {@link countFlops}. */
export interface CountFlopsOpts {
  /** Model bytes. */
  model: Uint8Array
  /** Concrete shapes by input name; required for inputs with dynamic dims, checked against static ones. */
  inputs?: Record<string, InputShape>
}

/** Tensor info during inference; `value` only for small tensors whose content is known statically. */
interface Info {
  dtype: number
  shape: number[]
  value?: number[]
  /** Sequence element infos (for sequence-typed values). */
  seq?: Info[]
}

/** Largest tensor whose values we propagate (shape arithmetic only needs small ones). */
const MAX_VALUE = 4096

class ShapeFail extends Error {}
const fail = (why: string): never => {
  throw new ShapeFail(why)
}

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)
const BOOL = 9
const INT64 = 7
const FLOAT = 1

function broadcast(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length))
  const out = new Array<number>(rank).fill(1)
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i
      const d = s[i]
      if (out[j] === 1) out[j] = d
      else if (d !== 1 && d !== out[j]) fail(`shapes ${shapes.map((x) => fmtShape(x)).join(' and ')} do not broadcast`)
    }
  }
  return out
}

function normAxis(a: number, rank: number): number {
  const r = a < 0 ? a + rank : a
  if (r < 0 || r >= Math.max(rank, 1)) fail(`axis ${a} is out of range for rank ${rank}`)
  return r
}

/** Index of a flat offset under broadcasting, for small value evaluation. */
function bcastIndex(outShape: number[], inShape: number[], flat: number): number {
  let idx = 0
  let stride = 1
  let rem = flat
  const coords = new Array<number>(outShape.length)
  for (let i = outShape.length - 1; i >= 0; i--) {
    coords[i] = rem % outShape[i]
    rem = Math.floor(rem / outShape[i])
  }
  for (let i = inShape.length - 1; i >= 0; i--) {
    const c = coords[outShape.length - inShape.length + i]
    idx += (inShape[i] === 1 ? 0 : c) * stride
    stride *= inShape[i]
  }
  return idx
}

function strides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length).fill(1)
  for (let i = shape.length - 2; i >= 0; i--) st[i] = st[i + 1] * shape[i + 1]
  return st
}

/** Values of an output whose element at coords c is the input element at map(c). */
function remap(outShape: number[], inShape: number[], inValue: number[], map: (c: number[]) => number[]): number[] {
  const n = numel(outShape)
  const ist = strides(inShape)
  const out = new Array<number>(n)
  const c = new Array<number>(outShape.length).fill(0)
  for (let k = 0; k < n; k++) {
    const ic = map(c)
    let idx = 0
    for (let i = 0; i < ic.length; i++) idx += ic[i] * ist[i]
    out[k] = inValue[idx]
    for (let i = outShape.length - 1; i >= 0; i--) {
      if (++c[i] < outShape[i]) break
      c[i] = 0
    }
  }
  return out
}

const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Min: Math.min,
  Max: Math.max,
  Equal: (a, b) => +(a === b),
  Less: (a, b) => +(a < b),
  Greater: (a, b) => +(a > b),
  LessOrEqual: (a, b) => +(a <= b),
  GreaterOrEqual: (a, b) => +(a >= b),
  And: (a, b) => +(a && b),
  Or: (a, b) => +(a || b),
  Mod: (a, b) => a % b,
  Pow: (a, b) => a ** b,
}
const UNARY: Record<string, (a: number) => number> = {
  Neg: (a) => -a,
  Abs: Math.abs,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Sqrt: Math.sqrt,
  Not: (a) => +!a,
  Identity: (a) => a,
  Round: (a) => {
    const r = Math.round(a)
    return Math.abs(a % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r
  },
  Reciprocal: (a) => 1 / a,
  Relu: (a) => Math.max(a, 0),
  Sign: Math.sign,
}
const COMPARE = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
  'IsInf',
])
const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13])

/** Elementwise / activation / normalisation ops: one FLOP per output element, output shaped like input 0. */
const UNARY_OPS = new Set([
  'Abs',
  'Acos',
  'Acosh',
  'Asin',
  'Asinh',
  'Atan',
  'Atanh',
  'Ceil',
  'Cos',
  'Cosh',
  'Elu',
  'Erf',
  'Exp',
  'Floor',
  'HardSigmoid',
  'HardSwish',
  'IsInf',
  'IsNaN',
  'LeakyRelu',
  'Log',
  'Mish',
  'Neg',
  'Not',
  'Reciprocal',
  'Relu',
  'Round',
  'Selu',
  'Celu',
  'Shrink',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Softplus',
  'Softsign',
  'Sqrt',
  'Tan',
  'Tanh',
  'ThresholdedRelu',
  'Gelu',
  'BitwiseNot',
  'Clip',
  'LpNormalization',
  'MeanVarianceNormalization',
  'LRN',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'InstanceNormalization',
  'GroupNormalization',
  'CumSum',
  'Bernoulli',
  'RandomUniformLike',
  'RandomNormalLike',
  'BatchNormalization',
  'Cast',
  'CastLike',
  'QuantizeLinear',
  'DequantizeLinear',
])
/** Broadcasting n-ary elementwise ops: one FLOP per output element. */
const NARY_OPS = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Mod',
  'Min',
  'Max',
  'Mean',
  'Sum',
  'And',
  'Or',
  'Xor',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'BitShift',
  'BitwiseAnd',
  'BitwiseOr',
  'BitwiseXor',
  'Where',
  'PRelu',
])
/** Ops that only move or describe data: zero FLOPs. */
const ZERO_FLOP = new Set([
  'Identity',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Concat',
  'Split',
  'Slice',
  'Gather',
  'GatherElements',
  'GatherND',
  'Scatter',
  'ScatterElements',
  'ScatterND',
  'Expand',
  'Tile',
  'Pad',
  'Shape',
  'Size',
  'ConstantOfShape',
  'Constant',
  'Range',
  'DepthToSpace',
  'SpaceToDepth',
  'OneHot',
  'EyeLike',
  'ReverseSequence',
  'Compress',
  'NonZero',
  'Dropout',
  'Trilu',
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceAt',
  'SequenceInsert',
  'SequenceErase',
  'SequenceLength',
  'ConcatFromSequence',
  'SplitToSequence',
  'HannWindow',
  'HammingWindow',
  'BlackmanWindow',
  'StringNormalizer',
  'CenterCropPad',
  'Col2Im',
  'RandomNormal',
  'RandomUniform',
])

const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan'])

interface NodeResult {
  outputs: (Info | undefined)[]
  flops: number
  macs?: number
}

interface Scope {
  get(name: string): Info | undefined
}

class Ctx implements Scope {
  readonly infos = new Map<string, Info>()
  constructor(readonly parent?: Scope) {}
  get(name: string): Info | undefined {
    return this.infos.get(name) ?? this.parent?.get(name)
  }
}

interface Counter {
  opset: number
  params: number
  byOp: FlopReport['byOp']
  /** Node evaluations so far, shared with subgraphs (unrolled loops count every iteration). */
  work: { evals: number }
}

/** Most node evaluations one count may take: bounds the counter's own cost on adversarial graphs. */
const MAX_NODE_EVALS = 1_000_000

function infoOfProto(t: TensorProto): Info {
  const shape = protoDims(t)
  const info: Info = { dtype: t.dataType ?? FLOAT, shape }
  if (numel(shape) <= MAX_VALUE) {
    const v = protoValues(t)
    if (v) info.value = v
  }
  return info
}

function declaredShape(v: ValueInfoProto): { dtype: number; shape: (number | string)[] } | undefined {
  const tt = v.type?.tensorType
  if (!tt) return undefined
  const dims = tt.shape?.dim ?? []
  return {
    dtype: tt.elemType ?? FLOAT,
    shape: dims.map((d) =>
      d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : '?',
    ),
  }
}

/**
 * Count the FLOPs of one run of `model` with the given input shapes (static shape inference; nothing runs).
 * Throws UnsupportedOpError naming the op and node it cannot count or shape, UnshapedInputError for an input
 * with a dynamic dim and no shape given.
 */
export function countFlops(opts: CountFlopsOpts): FlopReport {
  return createFlopCounter({ model: opts.model }).count(opts.inputs)
}

/** A decoded model that counts FLOPs for many input shapes (decoding is most of the cost on large models). */
export interface FlopCounter {
  /** Same as {@link countFlops} with these inputs. */
  count(inputs?: Record<string, InputShape>): FlopReport
}

/** Decode `model` once; `count` then runs only shape inference and the rules. */
export function createFlopCounter(opts: { model: Uint8Array }): FlopCounter {
  const m = decodeModel(opts.model)
  return { count: (inputs) => countDecoded(m, { inputs }) }
}

function countDecoded(m: ModelProto, opts: { inputs?: Record<string, InputShape> }): FlopReport {
  const counter: Counter = { opset: opsetOf(m), params: 0, byOp: {}, work: { evals: 0 } }
  const graph = m.graph as GraphProto
  const ctx = new Ctx()
  const inits = new Set<string>()
  for (const t of graph.initializer ?? []) {
    const info = infoOfProto(t)
    ctx.infos.set(t.name ?? '', info)
    inits.add(t.name ?? '')
    counter.params += numel(info.shape)
  }
  const declared = (graph.input ?? []).map((v) => v.name ?? '')
  for (const name of Object.keys(opts.inputs ?? {})) {
    if (!declared.includes(name))
      throw new UnknownInputError(
        name,
        declared.filter((n) => !inits.has(n)),
      )
  }
  for (const v of graph.input ?? []) {
    const name = v.name ?? ''
    if (inits.has(name) && !opts.inputs?.[name]) continue
    const given = opts.inputs?.[name]
    const decl = declaredShape(v)
    if (!decl) {
      if (v.type?.sequenceType || v.type?.optionalType) {
        throw new UnsupportedOpError('input', name, 'sequence and optional graph inputs cannot be shaped statically')
      }
      throw new UnshapedInputError(name, [])
    }
    let shape: number[]
    let value: number[] | undefined
    if (given) {
      shape = Array.isArray(given) ? given : given.shape
      if (!Array.isArray(given) && given.values) value = Array.from(given.values, Number)
      if (decl.shape.length !== shape.length && (v.type?.tensorType?.shape ?? undefined)) {
        throw new UnsupportedOpError(
          'input',
          name,
          `given shape ${fmtShape(shape)} has the wrong rank for ${fmtShape(decl.shape)}`,
        )
      }
      decl.shape.forEach((d, i) => {
        if (typeof d === 'number' && d !== shape[i]) {
          throw new UnsupportedOpError(
            'input',
            name,
            `given shape ${fmtShape(shape)} does not match the model's ${fmtShape(decl.shape)}`,
          )
        }
      })
    } else {
      if (!v.type?.tensorType?.shape || decl.shape.some((d) => typeof d !== 'number'))
        throw new UnshapedInputError(name, decl.shape)
      shape = decl.shape as number[]
    }
    ctx.infos.set(name, { dtype: decl.dtype, shape, value: value && value.length <= MAX_VALUE ? value : undefined })
  }
  const { flops, macs } = runGraph(graph, ctx, counter)
  const outputShapes: Record<string, number[]> = {}
  for (const o of graph.output ?? []) {
    const info = ctx.get(o.name ?? '')
    if (!info) throw new UnsupportedOpError('output', o.name ?? '', 'graph output is never produced')
    outputShapes[o.name ?? ''] = info.shape
  }
  return { flops, macs, params: counter.params, byOp: counter.byOp, outputShapes }
}

function runGraph(g: GraphProto, ctx: Ctx, counter: Counter): { flops: number; macs: number } {
  let flops = 0
  let macs = 0
  for (const node of g.node ?? []) {
    const op = node.opType ?? ''
    const name = node.name || `${op}:${node.output?.[0] ?? '?'}`
    const domain = node.domain ?? ''
    if (domain !== '' && domain !== 'ai.onnx')
      throw new UnsupportedOpError(`${domain}.${op}`, name, `ops of domain ${domain} are not counted`)
    if (++counter.work.evals > MAX_NODE_EVALS) {
      throw new UnsupportedOpError(op, name, `counting needs over ${MAX_NODE_EVALS} node evaluations (loops included)`)
    }
    let r: NodeResult
    try {
      r = evalNode(node, ctx, counter)
    } catch (err) {
      if (err instanceof ShapeFail) throw new UnsupportedOpError(op, name, err.message)
      if (err instanceof UnsupportedOpError) throw err
      throw new UnsupportedOpError(op, name, `shape inference failed: ${(err as Error).message}`)
    }
    const outs = node.output ?? []
    for (let i = 0; i < outs.length; i++) {
      if (!outs[i]) continue
      const info = r.outputs[i]
      if (!info) throw new UnsupportedOpError(op, name, `cannot infer the shape of output ${i}`)
      for (const d of info.shape) {
        if (!Number.isSafeInteger(d) || d < 0)
          throw new UnsupportedOpError(op, name, `inferred invalid shape ${fmtShape(info.shape)}`)
      }
      ctx.infos.set(outs[i], info)
    }
    const f = Math.ceil(r.flops)
    const m = Math.ceil(r.macs ?? 0)
    flops += f
    macs += m
    const b = counter.byOp[op] ?? { count: 0, flops: 0, macs: 0 }
    b.count++
    // control flow: the ops of its subgraphs are already in byOp under their own types
    if (!CONTROL_FLOW.has(op)) {
      b.flops += f
      b.macs += m
    }
    counter.byOp[op] = b
  }
  return { flops, macs }
}

function evalNode(node: NodeProto, ctx: Ctx, counter: Counter): NodeResult {
  const op = node.opType ?? ''
  const a = new Attrs(node)
  const ins = (node.input ?? []).map((n) => (n ? ctx.get(n) : undefined))
  node.input?.forEach((n, i) => {
    if (n && !ins[i]) fail(`input "${n}" is not produced by any earlier node`)
  })
  const opset = counter.opset
  const x = ins[0] as Info
  const need = (i: number): Info => ins[i] ?? fail(`input ${i} is missing`)
  const val = (i: number, what: string): number[] =>
    ins[i]?.value ?? fail(`the value of ${what} (input ${i}) is not known statically`)

  if (UNARY_OPS.has(op)) {
    need(0)
    let dtype = x.dtype
    if (op === 'Cast') dtype = a.int('to', FLOAT)
    else if (op === 'CastLike') dtype = need(1).dtype
    else if (COMPARE.has(op)) dtype = BOOL
    else if (op === 'QuantizeLinear') dtype = ins[2]?.dtype ?? 2
    else if (op === 'DequantizeLinear') dtype = FLOAT
    const out: Info = { dtype, shape: x.shape }
    if (x.value && UNARY[op]) out.value = x.value.map(UNARY[op])
    else if (x.value && (op === 'Cast' || op === 'CastLike'))
      out.value = INT_TYPES.has(dtype) ? x.value.map(Math.trunc) : x.value
    const outs: Info[] = [out]
    if (op === 'BatchNormalization' && (node.output?.length ?? 0) > 1) {
      const c = [x.shape[1]]
      for (let i = 1; i < 5; i++) outs.push({ dtype: x.dtype, shape: c })
    }
    const flops = op === 'Cast' || op === 'CastLike' ? numel(x.shape) : numel(x.shape)
    return { outputs: outs, flops }
  }
  if (NARY_OPS.has(op)) {
    const inputs = ins.filter((i): i is Info => !!i)
    // PRelu broadcasts the slope onto X (and opset < 7 took a per-channel slope): the output is shaped like X
    const shape = op === 'PRelu' ? need(0).shape : broadcast(...inputs.map((i) => i.shape))
    const dtype = COMPARE.has(op) ? BOOL : op === 'Where' ? need(1).dtype : x.dtype
    const out: Info = { dtype, shape }
    if (inputs.every((i) => i.value) && numel(shape) <= MAX_VALUE) {
      const n = numel(shape)
      const v = new Array<number>(n)
      const fn = BINARY[op]
      for (let k = 0; k < n; k++) {
        const xs = inputs.map((i) => (i.value as number[])[bcastIndex(shape, i.shape, k)])
        if (op === 'Where') v[k] = xs[0] ? xs[1] : xs[2]
        else if (op === 'Sum' || op === 'Mean') v[k] = xs.reduce((p, q) => p + q, 0) / (op === 'Mean' ? xs.length : 1)
        else if (fn) v[k] = xs.reduce((p, q) => fn(p, q))
        else break
        if (op === 'Div' && INT_TYPES.has(dtype)) v[k] = Math.trunc(v[k])
        if (k === n - 1) out.value = v
      }
    }
    return { outputs: [out], flops: numel(shape) }
  }

  switch (op) {
    case 'Constant': {
      const t = a.tensor('value')
      let info: Info
      if (t) info = infoOfProto(t)
      else if (a.has('value_float')) info = { dtype: FLOAT, shape: [], value: [a.float('value_float', 0)] }
      else if (a.has('value_floats')) {
        const v = a.floats('value_floats') as number[]
        info = { dtype: FLOAT, shape: [v.length], value: v }
      } else if (a.has('value_int')) info = { dtype: INT64, shape: [], value: [a.int('value_int', 0)] }
      else if (a.has('value_ints')) {
        const v = a.ints('value_ints') as number[]
        info = { dtype: INT64, shape: [v.length], value: v }
      } else if (a.has('value_string')) info = { dtype: 8, shape: [] }
      else if (a.has('value_strings')) info = { dtype: 8, shape: [(a.strs('value_strings') ?? []).length] }
      else return fail('Constant has no supported value attribute (sparse_value is not counted)')
      counter.params += numel(info.shape)
      return { outputs: [info], flops: 0 }
    }
    case 'Identity':
    case 'Dropout': {
      need(0)
      return { outputs: [{ ...x }, { dtype: BOOL, shape: x.shape }], flops: 0 }
    }
    case 'Shape': {
      need(0)
      const r = x.shape.length
      let start = a.int('start', 0)
      let end = a.int('end', r)
      start = Math.min(Math.max(start < 0 ? start + r : start, 0), r)
      end = Math.min(Math.max(end < 0 ? end + r : end, 0), r)
      const v = x.shape.slice(start, Math.max(start, end))
      return { outputs: [{ dtype: INT64, shape: [v.length], value: v }], flops: 0 }
    }
    case 'Size':
      need(0)
      return { outputs: [{ dtype: INT64, shape: [], value: [numel(x.shape)] }], flops: 0 }
    case 'Reshape': {
      need(0)
      const target = opset >= 5 ? val(1, 'the target shape') : (a.ints('shape') ?? fail('no shape attribute'))
      const allowZero = a.int('allowzero', 0)
      const shape = target.map((d, i) => (d === 0 && !allowZero ? (x.shape[i] ?? fail('0 dim past input rank')) : d))
      const known = shape.filter((d) => d !== -1)
      const total = numel(x.shape)
      if (shape.filter((d) => d === -1).length > 1) fail('more than one -1 in the target shape')
      const fixed = numel(known)
      const out = shape.map((d) => (d === -1 ? (fixed === 0 ? 0 : total / fixed) : d))
      if (numel(out) !== total) fail(`cannot reshape ${fmtShape(x.shape)} to ${fmtShape(target)}`)
      return { outputs: [{ dtype: x.dtype, shape: out, value: x.value }], flops: 0 }
    }
    case 'Flatten': {
      need(0)
      const axis = a.int('axis', 1)
      const ax = axis < 0 ? axis + x.shape.length : axis
      return {
        outputs: [{ dtype: x.dtype, shape: [numel(x.shape.slice(0, ax)), numel(x.shape.slice(ax))], value: x.value }],
        flops: 0,
      }
    }
    case 'Squeeze': {
      need(0)
      const axes = opset >= 13 ? (node.input?.[1] ? val(1, 'axes') : undefined) : a.ints('axes')
      const r = x.shape.length
      const drop = axes
        ? new Set(axes.map((d) => normAxis(d, r)))
        : new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])))
      for (const d of drop) if (x.shape[d] !== 1) fail(`cannot squeeze axis ${d} of ${fmtShape(x.shape)}`)
      return { outputs: [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.has(i)), value: x.value }], flops: 0 }
    }
    case 'Unsqueeze': {
      need(0)
      const axes = opset >= 13 ? val(1, 'axes') : (a.ints('axes') ?? fail('no axes'))
      const r = x.shape.length + axes.length
      const set = new Set(axes.map((d) => normAxis(d, r)))
      const out: number[] = []
      let j = 0
      for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : x.shape[j++])
      return { outputs: [{ dtype: x.dtype, shape: out, value: x.value }], flops: 0 }
    }
    case 'Transpose': {
      need(0)
      const r = x.shape.length
      const perm = a.ints('perm') ?? [...Array(r).keys()].reverse()
      const shape = perm.map((p) => x.shape[p])
      let value: number[] | undefined
      if (x.value) {
        value = remap(shape, x.shape, x.value, (c) => {
          const ic = new Array<number>(r)
          perm.forEach((p, i) => {
            ic[p] = c[i]
          })
          return ic
        })
      }
      return { outputs: [{ dtype: x.dtype, shape, value }], flops: 0 }
    }
    case 'Concat': {
      const inputs = ins.filter((i): i is Info => !!i)
      const r = inputs[0].shape.length
      const axis = normAxis(a.int('axis', 0), r)
      const shape = [...inputs[0].shape]
      shape[axis] = inputs.reduce((s, i) => s + i.shape[axis], 0)
      let value: number[] | undefined
      if (inputs.every((i) => i.value) && numel(shape) <= MAX_VALUE) {
        // outer blocks of each input, concatenated block by block
        const outer = numel(shape.slice(0, axis))
        value = []
        for (let o = 0; o < outer; o++) {
          for (const i of inputs) {
            const block = numel(i.shape.slice(axis))
            value.push(...(i.value as number[]).slice(o * block, (o + 1) * block))
          }
        }
      }
      return { outputs: [{ dtype: inputs[0].dtype, shape, value }], flops: 0 }
    }
    case 'Split': {
      need(0)
      const r = x.shape.length
      const axis = normAxis(a.int('axis', 0), r)
      const n = node.output?.length ?? 1
      let split = opset >= 13 ? (node.input?.[1] ? val(1, 'split') : undefined) : a.ints('split')
      if (!split || split.length === 0) {
        const numOut = a.int('num_outputs', n)
        const each = Math.ceil(x.shape[axis] / numOut)
        split = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(each, x.shape[axis] - each * i)))
      }
      return {
        outputs: split.map((s) => {
          const shape = [...x.shape]
          shape[axis] = s
          return { dtype: x.dtype, shape }
        }),
        flops: 0,
      }
    }
    case 'Slice':
      return slice(node, ins, a, opset)
    case 'Gather': {
      const idx = need(1)
      need(0)
      const r = x.shape.length
      const axis = normAxis(a.int('axis', 0), r)
      const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)]
      let value: number[] | undefined
      if (x.value && idx.value && r === 1)
        value = idx.value.map((i) => (x.value as number[])[i < 0 ? i + x.shape[0] : i])
      return { outputs: [{ dtype: x.dtype, shape, value }], flops: 0 }
    }
    case 'GatherElements':
      need(0)
      return { outputs: [{ dtype: x.dtype, shape: need(1).shape }], flops: 0 }
    case 'GatherND': {
      need(0)
      const idx = need(1)
      const b = a.int('batch_dims', 0)
      const last = idx.shape[idx.shape.length - 1]
      const shape = [...idx.shape.slice(0, -1), ...x.shape.slice(b + last)]
      return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
    }
    case 'Scatter':
    case 'ScatterElements':
    case 'ScatterND':
      need(0)
      return {
        outputs: [{ dtype: x.dtype, shape: x.shape }],
        flops: a.str('reduction', 'none') === 'none' ? 0 : numel(need(2).shape),
      }
    case 'Expand': {
      need(0)
      const target = val(1, 'the target shape')
      return { outputs: [{ dtype: x.dtype, shape: broadcast(x.shape, target) }], flops: 0 }
    }
    case 'Tile': {
      need(0)
      const reps = val(1, 'repeats')
      return { outputs: [{ dtype: x.dtype, shape: x.shape.map((d, i) => d * reps[i]) }], flops: 0 }
    }
    case 'Pad': {
      need(0)
      const r = x.shape.length
      const pads = opset >= 11 ? val(1, 'pads') : (a.ints('pads') ?? a.ints('paddings') ?? fail('no pads'))
      let axes = [...Array(r).keys()]
      if (opset >= 18 && node.input?.[3]) axes = val(3, 'axes').map((d) => normAxis(d, r))
      const shape = [...x.shape]
      axes.forEach((ax, i) => {
        shape[ax] += pads[i] + pads[i + axes.length]
      })
      return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
    }
    case 'ConstantOfShape': {
      const shape = val(0, 'the shape')
      const t = a.tensor('value')
      const dtype = t?.dataType ?? FLOAT
      const fillv = t ? (protoValues(t)?.[0] ?? 0) : 0
      const n = numel(shape)
      return { outputs: [{ dtype, shape, value: n <= MAX_VALUE ? new Array(n).fill(fillv) : undefined }], flops: 0 }
    }
    case 'Range': {
      const [s, l, d] = [val(0, 'start')[0], val(1, 'limit')[0], val(2, 'delta')[0]]
      const n = Math.max(Math.ceil((l - s) / d), 0)
      const value = n <= MAX_VALUE ? Array.from({ length: n }, (_, i) => s + i * d) : undefined
      return { outputs: [{ dtype: need(0).dtype, shape: [n], value }], flops: 0 }
    }
    case 'EyeLike':
      need(0)
      return { outputs: [{ dtype: a.int('dtype', x.dtype), shape: x.shape }], flops: 0 }
    case 'Trilu':
      need(0)
      return { outputs: [{ dtype: x.dtype, shape: x.shape }], flops: 0 }
    case 'ReverseSequence':
      need(0)
      return { outputs: [{ dtype: x.dtype, shape: x.shape }], flops: 0 }
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      need(0)
      const b = a.int('blocksize', 1)
      const [n, c, h, w] = x.shape
      const shape = op === 'DepthToSpace' ? [n, c / (b * b), h * b, w * b] : [n, c * b * b, h / b, w / b]
      return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
    }
    case 'OneHot': {
      const idx = need(0)
      const depth = val(1, 'depth')[0]
      const r = idx.shape.length + 1
      const axis = normAxis(a.int('axis', -1), r)
      const shape = [...idx.shape]
      shape.splice(axis, 0, depth)
      return { outputs: [{ dtype: need(2).dtype, shape }], flops: 0 }
    }
    case 'Compress': {
      need(0)
      const cond = need(1)
      const axis = a.int('axis')
      // data-dependent: bounded above by the condition's length
      const n = cond.value ? cond.value.filter(Boolean).length : cond.shape[0]
      if (axis === undefined) return { outputs: [{ dtype: x.dtype, shape: [Math.min(n, numel(x.shape))] }], flops: 0 }
      const ax = normAxis(axis, x.shape.length)
      const shape = [...x.shape]
      shape[ax] = Math.min(n, shape[ax])
      return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
    }
    case 'NonZero': {
      need(0)
      const n = x.value ? x.value.filter(Boolean).length : numel(x.shape)
      return { outputs: [{ dtype: INT64, shape: [x.shape.length, n] }], flops: numel(x.shape) }
    }
    case 'Unique': {
      need(0)
      const axis = a.int('axis')
      const n = axis === undefined ? numel(x.shape) : x.shape[normAxis(axis, x.shape.length)]
      const yShape = axis === undefined ? [n] : x.shape
      const inv = axis === undefined ? [numel(x.shape)] : [x.shape[normAxis(axis, x.shape.length)]]
      const f = numel(x.shape) * Math.max(1, Math.ceil(Math.log2(Math.max(numel(x.shape), 2))))
      return {
        outputs: [
          { dtype: x.dtype, shape: yShape },
          { dtype: INT64, shape: [n] },
          { dtype: INT64, shape: inv },
          { dtype: INT64, shape: [n] },
        ],
        flops: f,
      }
    }
    case 'TopK': {
      need(0)
      const k = opset >= 10 ? val(1, 'K')[0] : a.int('k', 1)
      const ax = normAxis(a.int('axis', -1), x.shape.length)
      const shape = [...x.shape]
      shape[ax] = k
      return {
        outputs: [
          { dtype: x.dtype, shape },
          { dtype: INT64, shape },
        ],
        flops: numel(x.shape),
      }
    }
    case 'ArgMax':
    case 'ArgMin':
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL1':
    case 'ReduceL2':
    case 'ReduceLogSum':
    case 'ReduceLogSumExp':
    case 'ReduceSumSquare':
      return reduce(node, ins, a, opset)
    case 'Conv':
    case 'ConvInteger':
    case 'QLinearConv':
      return conv(node, ins, a)
    case 'ConvTranspose':
      return convTranspose(ins, a)
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool':
      return pool(node, ins, a)
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool': {
      need(0)
      const shape = [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)]
      return { outputs: [{ dtype: x.dtype, shape }], flops: numel(x.shape) }
    }
    case 'MaxUnpool': {
      need(0)
      let shape: number[]
      if (node.input?.[2]) shape = val(2, 'output_shape')
      else {
        const k = a.ints('kernel_shape') ?? fail('no kernel_shape')
        const s = a.ints('strides') ?? k.map(() => 1)
        const p = a.ints('pads') ?? [...k, ...k].map(() => 0)
        shape = [x.shape[0], x.shape[1], ...k.map((kk, i) => (x.shape[i + 2] - 1) * s[i] + kk - p[i] - p[i + k.length])]
      }
      return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
    }
    case 'MaxRoiPool':
    case 'RoiAlign': {
      need(0)
      const rois = need(1)
      const ph = op === 'RoiAlign' ? a.int('output_height', 1) : (a.ints('pooled_shape') ?? [1, 1])[0]
      const pw = op === 'RoiAlign' ? a.int('output_width', 1) : (a.ints('pooled_shape') ?? [1, 1])[1]
      const shape = [rois.shape[0], x.shape[1], ph, pw]
      const sr = op === 'RoiAlign' ? Math.max(a.int('sampling_ratio', 0), 2) : 2
      return { outputs: [{ dtype: x.dtype, shape }], flops: numel(shape) * sr * sr * 4 }
    }
    case 'LayerNormalization': {
      need(0)
      const r = x.shape.length
      const axis = normAxis(a.int('axis', -1), r)
      const red = x.shape.map((d, i) => (i < axis ? d : 1))
      return {
        outputs: [
          { dtype: x.dtype, shape: x.shape },
          { dtype: FLOAT, shape: red },
          { dtype: FLOAT, shape: red },
        ],
        flops: numel(x.shape),
      }
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const A = need(0)
      const B = op === 'QLinearMatMul' ? need(3) : need(1)
      const { shape, macs } = matmul(A.shape, B.shape)
      const dtype = op === 'MatMulInteger' ? 6 : op === 'QLinearMatMul' ? (ins[7]?.dtype ?? A.dtype) : A.dtype
      return { outputs: [{ dtype, shape }], flops: 2 * macs, macs }
    }
    case 'Gemm': {
      const A = need(0)
      const B = need(1)
      const [m, k] = a.int('transA', 0) ? [A.shape[1], A.shape[0]] : [A.shape[0], A.shape[1]]
      const [k2, n] = a.int('transB', 0) ? [B.shape[1], B.shape[0]] : [B.shape[0], B.shape[1]]
      if (k !== k2) fail(`inner dims ${k} and ${k2} differ`)
      const macs = m * n * k
      const bias = ins[2] ? m * n : 0
      return { outputs: [{ dtype: A.dtype, shape: [m, n] }], flops: 2 * macs + bias, macs }
    }
    case 'Einsum':
      return einsum(ins, a)
    case 'Attention':
      return attention(ins, a)
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return rnn(op, node, ins, a)
    case 'Resize':
    case 'Upsample':
      return resize(op, node, ins, a, opset)
    case 'GridSample': {
      need(0)
      const grid = need(1)
      const shape = [x.shape[0], x.shape[1], ...grid.shape.slice(1, -1)]
      return { outputs: [{ dtype: x.dtype, shape }], flops: numel(shape) * 4 }
    }
    case 'NegativeLogLikelihoodLoss':
    case 'SoftmaxCrossEntropyLoss': {
      need(0)
      const target = need(1)
      const red = a.str('reduction', 'mean')
      const shape = red === 'none' ? target.shape : []
      const outs: Info[] = [{ dtype: x.dtype, shape }]
      if (op === 'SoftmaxCrossEntropyLoss') outs.push({ dtype: x.dtype, shape: x.shape })
      return { outputs: outs, flops: numel(x.shape) + numel(target.shape) }
    }
    case 'NonMaxSuppression': {
      const boxes = need(0)
      const scores = need(1)
      const [batches, classes, nb] = scores.shape
      const maxOut = node.input?.[2] ? val(2, 'max_output_boxes_per_class')[0] : 0
      const sel = batches * classes * Math.min(maxOut, nb)
      return { outputs: [{ dtype: INT64, shape: [sel, 3] }], flops: batches * classes * nb * nb + numel(boxes.shape) }
    }
    case 'Det': {
      need(0)
      const r = x.shape.length
      const n = x.shape[r - 1]
      const shape = x.shape.slice(0, -2)
      return { outputs: [{ dtype: x.dtype, shape }], flops: numel(shape) * Math.ceil((2 * n ** 3) / 3), macs: 0 }
    }
    case 'DFT':
      return dft(node, ins, a)
    case 'STFT':
      return stft(node, ins, a)
    case 'HannWindow':
    case 'HammingWindow':
    case 'BlackmanWindow': {
      const n = val(0, 'size')[0]
      return { outputs: [{ dtype: a.int('output_datatype', FLOAT), shape: [n] }], flops: n }
    }
    case 'MelWeightMatrix': {
      const mel = val(0, 'num_mel_bins')[0]
      const dftLen = val(1, 'dft_length')[0]
      const shape = [Math.floor(dftLen / 2) + 1, mel]
      return { outputs: [{ dtype: a.int('output_datatype', FLOAT), shape }], flops: numel(shape) }
    }
    case 'DynamicQuantizeLinear':
      need(0)
      return {
        outputs: [
          { dtype: 2, shape: x.shape },
          { dtype: FLOAT, shape: [] },
          { dtype: 2, shape: [] },
        ],
        flops: 2 * numel(x.shape),
      }
    case 'StringNormalizer': {
      need(0)
      return { outputs: [{ dtype: 8, shape: x.shape }], flops: numel(x.shape) }
    }
    case 'TfIdfVectorizer': {
      need(0)
      const idx = a.ints('ngram_indexes') ?? []
      const width = idx.length ? Math.max(...idx) + 1 : 0
      const shape = x.shape.length === 2 ? [x.shape[0], width] : [width]
      return { outputs: [{ dtype: FLOAT, shape }], flops: numel(x.shape) * Math.max(1, a.int('max_gram_length', 1)) }
    }
    case 'RandomNormal':
    case 'RandomUniform': {
      const shape = a.ints('shape') ?? fail('no shape')
      return { outputs: [{ dtype: a.int('dtype', FLOAT), shape }], flops: numel(shape) }
    }
    case 'SequenceConstruct':
      return { outputs: [{ dtype: 0, shape: [], seq: ins.map((i) => i as Info) }], flops: 0 }
    case 'SequenceEmpty':
      return { outputs: [{ dtype: 0, shape: [], seq: [] }], flops: 0 }
    case 'SequenceLength':
      return { outputs: [{ dtype: INT64, shape: [], value: [seqOf(need(0)).length] }], flops: 0 }
    case 'SequenceAt': {
      const s = seqOf(need(0))
      const p = val(1, 'position')[0]
      return { outputs: [s[p < 0 ? p + s.length : p] ?? fail(`position ${p} out of range`)], flops: 0 }
    }
    case 'SequenceInsert': {
      const s = [...seqOf(need(0))]
      const p = node.input?.[2] ? val(2, 'position')[0] : s.length
      s.splice(p < 0 ? p + s.length : p, 0, need(1))
      return { outputs: [{ dtype: 0, shape: [], seq: s }], flops: 0 }
    }
    case 'SequenceErase': {
      const s = [...seqOf(need(0))]
      const p = node.input?.[1] ? val(1, 'position')[0] : -1
      s.splice(p < 0 ? p + s.length : p, 1)
      return { outputs: [{ dtype: 0, shape: [], seq: s }], flops: 0 }
    }
    case 'SplitToSequence': {
      need(0)
      const axis = normAxis(a.int('axis', 0), x.shape.length)
      const keep = a.int('keepdims', 1)
      let parts: number[]
      if (node.input?.[1]) {
        const sp = val(1, 'split')
        parts = ins[1]?.shape.length === 0 ? splitEven(x.shape[axis], sp[0]) : sp
      } else parts = new Array(x.shape[axis]).fill(1)
      const seq = parts.map((p) => {
        const shape = [...x.shape]
        shape[axis] = p
        if (!node.input?.[1] && !keep) shape.splice(axis, 1)
        return { dtype: x.dtype, shape }
      })
      return { outputs: [{ dtype: 0, shape: [], seq }], flops: 0 }
    }
    case 'ConcatFromSequence': {
      const s = seqOf(need(0))
      if (s.length === 0) fail('empty sequence')
      const newAxis = a.int('new_axis', 0)
      const r = s[0].shape.length + newAxis
      const axis = normAxis(a.int('axis', 0), r)
      const shape = [...s[0].shape]
      if (newAxis) shape.splice(axis, 0, s.length)
      else shape[axis] = s.reduce((t, i) => t + i.shape[axis], 0)
      return { outputs: [{ dtype: s[0].dtype, shape }], flops: 0 }
    }
    case 'If':
      return ifNode(node, ins, a, ctx, counter)
    case 'Loop':
      return loopNode(node, ins, a, ctx, counter)
    case 'Scan':
      return scanNode(node, ins, a, ctx, counter)
    case 'CenterCropPad': {
      need(0)
      const target = val(1, 'shape')
      const axes = a.ints('axes') ?? target.map((_, i) => i)
      const shape = [...x.shape]
      axes.forEach((ax, i) => {
        shape[normAxis(ax, shape.length)] = target[i]
      })
      return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
    }
    default:
      if (ZERO_FLOP.has(op)) return fail('no shape rule')
      throw new UnsupportedOpError(op, node.name || op, 'the FLOP counter has no rule for this op')
  }
}

function seqOf(i: Info): Info[] {
  return i.seq ?? fail('expected a sequence')
}

function splitEven(len: number, chunk: number): number[] {
  const out: number[] = []
  for (let s = 0; s < len; s += chunk) out.push(Math.min(chunk, len - s))
  return out
}

function slice(node: NodeProto, ins: (Info | undefined)[], a: Attrs, opset: number): NodeResult {
  const x = ins[0] ?? fail('no data input')
  const r = x.shape.length
  const v = (i: number, what: string): number[] | undefined =>
    node.input?.[i] ? (ins[i]?.value ?? fail(`the value of ${what} (input ${i}) is not known statically`)) : undefined
  let starts: number[]
  let ends: number[]
  let axes: number[] | undefined
  let steps: number[] | undefined
  if (opset >= 10) {
    starts = v(1, 'starts') as number[]
    ends = v(2, 'ends') as number[]
    axes = v(3, 'axes')
    steps = v(4, 'steps')
  } else {
    starts = a.ints('starts') ?? fail('no starts')
    ends = a.ints('ends') ?? fail('no ends')
    axes = a.ints('axes')
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((d) => normAxis(d, r))
  const shape = [...x.shape]
  const ranges: [number, number, number][] = x.shape.map((d) => [0, d, 1])
  ax.forEach((axis, i) => {
    const dim = x.shape[axis]
    const step = steps?.[i] ?? 1
    if (step === 0) fail('slice step 0')
    let s = starts[i]
    let e = ends[i]
    if (s < 0) s += dim
    if (e < 0) e += dim
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim)
      e = Math.min(Math.max(e, 0), dim)
      shape[axis] = Math.max(0, Math.ceil((e - s) / step))
    } else {
      s = Math.min(Math.max(s, -1), dim - 1)
      e = Math.min(Math.max(e, -1), dim - 1)
      shape[axis] = Math.max(0, Math.ceil((s - e) / -step))
    }
    ranges[axis] = [s, e, step]
  })
  let value: number[] | undefined
  if (x.value) value = remap(shape, x.shape, x.value, (c) => c.map((d, i) => ranges[i][0] + d * ranges[i][2]))
  return { outputs: [{ dtype: x.dtype, shape, value }], flops: 0 }
}

function reduce(node: NodeProto, ins: (Info | undefined)[], a: Attrs, opset: number): NodeResult {
  const op = node.opType ?? ''
  const x = ins[0] ?? fail('no data input')
  const r = x.shape.length
  const keep = a.int('keepdims', 1)
  let axes: number[] | undefined
  if (op === 'ArgMax' || op === 'ArgMin') axes = [a.int('axis', 0)]
  else {
    const axesAsInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18
    if (axesAsInput) {
      if (node.input?.[1]) axes = ins[1]?.value ?? fail('the value of axes (input 1) is not known statically')
    } else axes = a.ints('axes')
    if (axes && axes.length === 0) axes = undefined
    if (!axes && a.int('noop_with_empty_axes', 0)) return { outputs: [{ ...x }], flops: 0 }
  }
  const set = new Set((axes ?? [...Array(r).keys()]).map((d) => normAxis(d, r)))
  const shape: number[] = []
  x.shape.forEach((d, i) => {
    if (!set.has(i)) shape.push(d)
    else if (keep) shape.push(1)
  })
  const dtype = op === 'ArgMax' || op === 'ArgMin' ? INT64 : x.dtype
  let value: number[] | undefined
  if (x.value && op === 'ReduceProd' && r === 1 && !keep) value = [x.value.reduce((p, q) => p * q, 1)]
  // every input element is folded into one output element once
  return { outputs: [{ dtype, shape, value }], flops: numel(x.shape) }
}

function convOutDims(inSpatial: number[], kernel: number[], a: Attrs, ceil = false): { out: number[]; pads: number[] } {
  const n = kernel.length
  const strides = a.ints('strides') ?? kernel.map(() => 1)
  const dil = a.ints('dilations') ?? kernel.map(() => 1)
  const autoPad = a.str('auto_pad', 'NOTSET')
  let pads = a.ints('pads') ?? new Array(2 * n).fill(0)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const ek = (kernel[i] - 1) * dil[i] + 1
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out.push(Math.ceil(inSpatial[i] / strides[i]))
    } else if (autoPad === 'VALID') {
      out.push(Math.floor((inSpatial[i] - ek) / strides[i]) + 1)
      pads = new Array(2 * n).fill(0)
    } else {
      const span = inSpatial[i] + pads[i] + pads[i + n] - ek
      let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1
      // ceil mode: the last window must start inside the input or left padding
      if (ceil && (o - 1) * strides[i] >= inSpatial[i] + pads[i]) o--
      out.push(o)
    }
  }
  for (const o of out) if (o <= 0) fail(`output spatial size ${o} is not positive`)
  return { out, pads }
}

function conv(node: NodeProto, ins: (Info | undefined)[], a: Attrs): NodeResult {
  const op = node.opType ?? ''
  const x = ins[0] ?? fail('no data input')
  const w = (op === 'QLinearConv' ? ins[3] : ins[1]) ?? fail('no weight input')
  const group = a.int('group', 1)
  const kernel = a.ints('kernel_shape') ?? w.shape.slice(2)
  const { out } = convOutDims(x.shape.slice(2), kernel, a)
  const cout = w.shape[0]
  const cinPerGroup = w.shape[1]
  if (cinPerGroup * group !== x.shape[1])
    fail(`input has ${x.shape[1]} channels but weights expect ${cinPerGroup * group}`)
  const shape = [x.shape[0], cout, ...out]
  const macs = numel(shape) * cinPerGroup * numel(kernel)
  const hasBias = op === 'QLinearConv' ? !!ins[8] : op === 'Conv' && !!ins[2]
  const dtype = op === 'ConvInteger' ? 6 : op === 'QLinearConv' ? (ins[7]?.dtype ?? x.dtype) : x.dtype
  return { outputs: [{ dtype, shape }], flops: 2 * macs + (hasBias ? numel(shape) : 0), macs }
}

function convTranspose(ins: (Info | undefined)[], a: Attrs): NodeResult {
  const x = ins[0] ?? fail('no data input')
  const w = ins[1] ?? fail('no weight input')
  const group = a.int('group', 1)
  const kernel = a.ints('kernel_shape') ?? w.shape.slice(2)
  const n = kernel.length
  const strides = a.ints('strides') ?? kernel.map(() => 1)
  const dil = a.ints('dilations') ?? kernel.map(() => 1)
  const outPad = a.ints('output_padding') ?? kernel.map(() => 0)
  const pads = a.ints('pads') ?? new Array(2 * n).fill(0)
  const autoPad = a.str('auto_pad', 'NOTSET')
  const inSp = x.shape.slice(2)
  let outSp = a.ints('output_shape')
  if (outSp && outSp.length > n) outSp = outSp.slice(-n)
  if (!outSp) {
    outSp = inSp.map((d, i) => {
      if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * strides[i]
      return strides[i] * (d - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + n]
    })
  }
  const cout = w.shape[1] * group
  const shape = [x.shape[0], cout, ...outSp]
  // every input element is multiplied by a (Cout/group x kernel) slice of the weights
  const macs = numel(x.shape) * w.shape[1] * numel(kernel)
  return { outputs: [{ dtype: x.dtype, shape }], flops: 2 * macs + (ins[2] ? numel(shape) : 0), macs }
}

function pool(node: NodeProto, ins: (Info | undefined)[], a: Attrs): NodeResult {
  const x = ins[0] ?? fail('no data input')
  const kernel = a.ints('kernel_shape') ?? fail('no kernel_shape')
  const { out } = convOutDims(x.shape.slice(2), kernel, a, a.int('ceil_mode', 0) === 1)
  const shape = [x.shape[0], x.shape[1], ...out]
  const outs: Info[] = [{ dtype: x.dtype, shape }]
  if (node.opType === 'MaxPool') outs.push({ dtype: INT64, shape })
  // each output element reads its whole window
  return { outputs: outs, flops: numel(shape) * numel(kernel) }
}

function matmul(A: number[], B: number[]): { shape: number[]; macs: number } {
  if (A.length === 0 || B.length === 0) fail('MatMul of a scalar')
  const a2 = A.length === 1 ? [1, A[0]] : A
  const b2 = B.length === 1 ? [B[0], 1] : B
  const [m, k] = a2.slice(-2)
  const [k2, n] = b2.slice(-2)
  if (k !== k2) fail(`inner dims ${k} and ${k2} of ${fmtShape(A)} x ${fmtShape(B)} differ`)
  const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2))
  const shape = [...batch]
  if (A.length > 1) shape.push(m)
  if (B.length > 1) shape.push(n)
  return { shape, macs: numel(batch) * m * n * k }
}

function einsum(ins: (Info | undefined)[], a: Attrs): NodeResult {
  const eq = a.str('equation', '').replace(/\s/g, '')
  const [lhs, rhsGiven] = eq.split('->')
  const terms = lhs.split(',')
  const sizes = new Map<string, number>()
  let ellipsis: number[] = []
  terms.forEach((t, i) => {
    const s = (ins[i] ?? fail(`input ${i} is missing`)).shape
    const letters = t.replace('...', '')
    const nEll = s.length - letters.length
    let j = 0
    for (let c = 0; c < t.length; c++) {
      if (t.startsWith('...', c)) {
        const ell = s.slice(j, j + nEll)
        ellipsis = broadcast(ellipsis, ell)
        j += nEll
        c += 2
        continue
      }
      const prev = sizes.get(t[c])
      const d = s[j++]
      if (prev !== undefined && prev !== d && prev !== 1 && d !== 1) fail(`index ${t[c]} has sizes ${prev} and ${d}`)
      sizes.set(t[c], Math.max(prev ?? 1, d))
    }
  })
  let rhs = rhsGiven
  if (rhs === undefined) {
    const count = new Map<string, number>()
    for (const t of terms) for (const c of t.replace('...', '')) count.set(c, (count.get(c) ?? 0) + 1)
    rhs =
      (lhs.includes('...') ? '...' : '') +
      [...count.entries()]
        .filter(([, n]) => n === 1)
        .map(([c]) => c)
        .sort()
        .join('')
  }
  const shape: number[] = []
  for (let c = 0; c < rhs.length; c++) {
    if (rhs.startsWith('...', c)) {
      shape.push(...ellipsis)
      c += 2
    } else shape.push(sizes.get(rhs[c]) ?? fail(`output index ${rhs[c]} is not in the inputs`))
  }
  // one multiply-accumulate per point of the full index space (ellipsis dims included)
  const space = numel([...sizes.values()]) * numel(ellipsis)
  const macs = terms.length > 1 ? space * (terms.length - 1) : 0
  return { outputs: [{ dtype: ins[0]?.dtype ?? FLOAT, shape }], flops: terms.length > 1 ? 2 * macs : space, macs }
}

/** ONNX Attention (opset 23): softmax(Q K^T * scale + mask) V, 3-D or 4-D inputs, optional past key/value. */
function attention(ins: (Info | undefined)[], a: Attrs): NodeResult {
  const q = ins[0] ?? fail('no Q input')
  const k = ins[1] ?? fail('no K input')
  const v = ins[2] ?? fail('no V input')
  let b: number
  let hq: number
  let hkv: number
  let s: number
  let l: number
  let dk: number
  let dv: number
  if (q.shape.length === 4) {
    ;[b, hq, s, dk] = q.shape
    ;[, hkv, l] = k.shape
    dv = v.shape[3]
  } else if (q.shape.length === 3) {
    hq = a.int('q_num_heads') ?? fail('3-D Attention needs q_num_heads')
    hkv = a.int('kv_num_heads') ?? fail('3-D Attention needs kv_num_heads')
    ;[b, s] = q.shape
    dk = q.shape[2] / hq
    l = k.shape[1]
    dv = v.shape[2] / hkv
  } else return fail(`Q has rank ${q.shape.length}; Attention takes 3-D or 4-D inputs`)
  const past = ins[4]?.shape[2] ?? 0
  const total = past + l
  const scores = b * hq * s * total
  // Q K^T and P V; softmax, scale and mask: a few element ops per score
  const macs = scores * (dk + dv)
  const y = q.shape.length === 4 ? [b, hq, s, dv] : [b, s, hq * dv]
  return {
    outputs: [
      { dtype: q.dtype, shape: y },
      { dtype: k.dtype, shape: [b, hkv, total, dk] },
      { dtype: v.dtype, shape: [b, hkv, total, dv] },
      { dtype: q.dtype, shape: [b, hq, s, total] },
    ],
    flops: 2 * macs + 3 * scores,
    macs,
  }
}

function rnn(op: string, node: NodeProto, ins: (Info | undefined)[], a: Attrs): NodeResult {
  const x = ins[0] ?? fail('no data input')
  const w = ins[1] ?? fail('no weight input')
  const layout = a.int('layout', 0)
  const [seq, batch, input] = layout ? [x.shape[1], x.shape[0], x.shape[2]] : x.shape
  const dirs = w.shape[0]
  const hidden = a.int('hidden_size') ?? w.shape[1] / (op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1)
  const gates = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1
  const macs = seq * batch * dirs * gates * hidden * (input + hidden)
  const yShape = layout ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]
  const hShape = layout ? [batch, dirs, hidden] : [dirs, batch, hidden]
  // gate activations and cell updates: a few elementwise ops per gate element
  const elementwise = seq * batch * dirs * hidden * (gates + 3)
  const outs: Info[] = [
    { dtype: x.dtype, shape: yShape },
    { dtype: x.dtype, shape: hShape },
  ]
  if (op === 'LSTM') outs.push({ dtype: x.dtype, shape: hShape })
  void node
  return { outputs: outs, flops: 2 * macs + elementwise, macs }
}

function resize(op: string, node: NodeProto, ins: (Info | undefined)[], a: Attrs, opset: number): NodeResult {
  const x = ins[0] ?? fail('no data input')
  const r = x.shape.length
  let shape: number[] | undefined
  let scales: number[] | undefined
  if (op === 'Upsample')
    scales = opset >= 9 ? (ins[1]?.value ?? fail('the value of scales is not known statically')) : a.floats('scales')
  else if (opset >= 11) {
    const sizes = node.input?.[3] ? ins[3]?.value : undefined
    if (node.input?.[3] && !sizes) fail('the value of sizes is not known statically')
    if (sizes?.length) shape = sizes
    else if (node.input?.[2]) scales = ins[2]?.value ?? fail('the value of scales is not known statically')
  } else scales = ins[1]?.value ?? fail('the value of scales is not known statically')
  const axes = a.ints('axes')?.map((d) => normAxis(d, r))
  const policy = a.str('keep_aspect_ratio_policy', 'stretch')
  if (shape) {
    if (axes) {
      const full = [...x.shape]
      axes.forEach((ax, i) => {
        full[ax] = (shape as number[])[i]
      })
      shape = full
    }
    if (policy !== 'stretch') {
      const ax = axes ?? [...Array(r).keys()]
      const ratios = ax.map((d) => (shape as number[])[d] / x.shape[d])
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios)
      shape = x.shape.map((d, i) => (ax.includes(i) ? Math.round(d * s) : d))
    }
  } else if (scales?.length) {
    const full = new Array(r).fill(1)
    ;(axes ?? [...Array(r).keys()]).forEach((ax, i) => {
      full[ax] = (scales as number[])[i]
    })
    shape = x.shape.map((d, i) => Math.floor(d * full[i]))
  } else fail('neither scales nor sizes is given')
  const mode = a.str('mode', 'nearest')
  const perElem = mode === 'nearest' ? 1 : mode === 'cubic' ? 4 ** Math.min(2, r) : 2 ** Math.min(2, r)
  return { outputs: [{ dtype: x.dtype, shape: shape as number[] }], flops: numel(shape as number[]) * perElem }
}

function dft(node: NodeProto, ins: (Info | undefined)[], a: Attrs): NodeResult {
  const x = ins[0] ?? fail('no data input')
  const r = x.shape.length
  let axis = a.int('axis', 1)
  if (node.input?.[2]) axis = (ins[2]?.value ?? fail('the value of axis is not known statically'))[0]
  axis = normAxis(axis, r - 1)
  const n = node.input?.[1]
    ? (ins[1]?.value ?? fail('the value of dft_length is not known statically'))[0]
    : x.shape[axis]
  const onesided = a.int('onesided', 0)
  const shape = [...x.shape]
  shape[axis] = onesided ? Math.floor(n / 2) + 1 : n
  shape[r - 1] = 2
  // naive DFT: every output bin is a complex dot product over n samples (4 real MACs each)
  const macs = (numel(shape) / 2) * n * 4
  return { outputs: [{ dtype: x.dtype, shape }], flops: 2 * macs, macs }
}

function stft(node: NodeProto, ins: (Info | undefined)[], a: Attrs): NodeResult {
  const x = ins[0] ?? fail('no signal input')
  const step = (ins[1]?.value ?? fail('the value of frame_step is not known statically'))[0]
  let frame: number
  if (node.input?.[3]) frame = (ins[3]?.value ?? fail('the value of frame_length is not known statically'))[0]
  else frame = (ins[2] ?? fail('neither window nor frame_length given')).shape[0]
  const [batch, len] = x.shape
  const frames = Math.floor((len - frame) / step) + 1
  const bins = a.int('onesided', 1) ? Math.floor(frame / 2) + 1 : frame
  const shape = [batch, frames, bins, 2]
  const macs = batch * frames * bins * frame * 4
  return { outputs: [{ dtype: x.dtype, shape }], flops: 2 * macs, macs }
}

interface SubResult {
  flops: number
  macs: number
  outputs: Info[]
  byOp: FlopReport['byOp']
}

/** Run a subgraph with a fresh per-op table; its inputs bound to `bind`. */
function runSub(g: GraphProto, parent: Scope, counter: Counter, bind: Info[]): SubResult {
  const ctx = new Ctx(parent)
  for (const t of g.initializer ?? []) {
    const info = infoOfProto(t)
    ctx.infos.set(t.name ?? '', info)
    counter.params += numel(info.shape)
  }
  ;(g.input ?? []).forEach((v, i) => {
    if (bind[i]) ctx.infos.set(v.name ?? '', bind[i])
  })
  const sub: Counter = { opset: counter.opset, params: 0, byOp: {}, work: counter.work }
  const { flops, macs } = runGraph(g, ctx, sub)
  counter.params += sub.params
  const outputs = (g.output ?? []).map(
    (o) => ctx.get(o.name ?? '') ?? fail(`subgraph output ${o.name} is never produced`),
  )
  return { flops, macs, outputs, byOp: sub.byOp }
}

function mergeByOp(into: FlopReport['byOp'], from: FlopReport['byOp'], times: number, countNodes = true): void {
  for (const [op, b] of Object.entries(from)) {
    const t = into[op] ?? { count: 0, flops: 0, macs: 0 }
    if (countNodes) t.count += b.count
    t.flops += b.flops * times
    t.macs += b.macs * times
    into[op] = t
  }
}

function ifNode(_node: NodeProto, ins: (Info | undefined)[], a: Attrs, ctx: Ctx, counter: Counter): NodeResult {
  const cond = ins[0] ?? fail('no condition')
  const thenG = a.graph('then_branch') ?? fail('no then_branch')
  const elseG = a.graph('else_branch') ?? fail('no else_branch')
  let chosen: SubResult
  if (cond.value) chosen = runSub(cond.value[0] ? thenG : elseG, ctx, counter, [])
  else {
    const branch = (g: GraphProto, which: string): SubResult => {
      try {
        return runSub(g, ctx, counter, [])
      } catch (err) {
        if (!(err instanceof UnsupportedOpError)) throw err
        return fail(
          `its condition is not known statically and the ${which} branch cannot be counted (${err.shortMessage}); give the values of the inputs the condition depends on (e.g. lattice flops --value name=v)`,
        )
      }
    }
    const t = branch(thenG, 'then')
    const e = branch(elseG, 'else')
    // unknown condition: charge the larger branch; outputs take the elementwise larger shape
    chosen = t.flops >= e.flops ? t : e
    const other = chosen === t ? e : t
    chosen.outputs = chosen.outputs.map((o, i) => {
      const p = other.outputs[i]
      if (!p || p.shape.length !== o.shape.length) fail('branches give outputs of different rank')
      return { dtype: o.dtype, shape: o.shape.map((d, j) => Math.max(d, p.shape[j])), seq: o.seq }
    })
  }
  mergeByOp(counter.byOp, chosen.byOp, 1)
  return { outputs: chosen.outputs, flops: chosen.flops, macs: chosen.macs }
}

/** Loops up to this many iterations are unrolled (iteration number known to shape inference). */
const MAX_UNROLL = 256

function loopNode(node: NodeProto, ins: (Info | undefined)[], a: Attrs, ctx: Ctx, counter: Counter): NodeResult {
  const body = a.graph('body') ?? fail('no body')
  const tripName = node.input?.[0]
  if (!tripName) fail('Loop without a trip count cannot be bounded statically')
  const trip = (ins[0]?.value ?? fail('the trip count is not known statically'))[0]
  const carried = ins.slice(2).map((i) => i as Info)
  const nCarried = carried.length
  if (trip <= MAX_UNROLL) {
    // unroll: each iteration sees its iteration number and the previous iteration's carried values
    let state = carried
    let flops = 0
    let macs = 0
    let scans: Info[][] = []
    for (let i = 0; i < trip; i++) {
      const sub = runSub(body, ctx, counter, [
        { dtype: INT64, shape: [], value: [i] },
        { dtype: BOOL, shape: [] },
        ...state,
      ])
      flops += sub.flops
      macs += sub.macs
      mergeByOp(counter.byOp, sub.byOp, 1, i === 0)
      state = sub.outputs.slice(1, 1 + nCarried)
      const sc = sub.outputs.slice(1 + nCarried)
      if (i === 0) scans = sc.map(() => [])
      sc.forEach((o, j) => {
        if (scans[j].length && scans[j][0].shape.join() !== o.shape.join())
          fail('scan output shape changes between iterations')
        scans[j].push(o)
      })
    }
    if (trip === 0) {
      const sub = runSub(body, ctx, counter, [
        { dtype: INT64, shape: [], value: [0] },
        { dtype: BOOL, shape: [] },
        ...state,
      ])
      scans = sub.outputs.slice(1 + nCarried).map(() => [])
      const shapes = sub.outputs.slice(1 + nCarried)
      return {
        outputs: [...state, ...shapes.map((o) => ({ dtype: o.dtype, shape: [0, ...o.shape] }))],
        flops: 0,
        macs: 0,
      }
    }
    const outs: Info[] = state.map((o) => ({ dtype: o.dtype, shape: o.shape, seq: o.seq, value: o.value }))
    for (const sc of scans) outs.push({ dtype: sc[0].dtype, shape: [trip, ...sc[0].shape] })
    return { outputs: outs, flops, macs }
  }
  // long loops: one symbolic pass (iteration number and carried values unknown), times the trip count
  const bind: Info[] = [
    { dtype: INT64, shape: [] },
    { dtype: BOOL, shape: [] },
    ...carried.map((c) => ({ dtype: c.dtype, shape: c.shape, seq: c.seq })),
  ]
  const sub = runSub(body, ctx, counter, bind)
  const outs: Info[] = sub.outputs.slice(1, 1 + nCarried).map((o) => ({ dtype: o.dtype, shape: o.shape, seq: o.seq }))
  for (const scanOut of sub.outputs.slice(1 + nCarried))
    outs.push({ dtype: scanOut.dtype, shape: [trip, ...scanOut.shape] })
  mergeByOp(counter.byOp, sub.byOp, trip)
  return { outputs: outs, flops: sub.flops * trip, macs: sub.macs * trip }
}

function scanNode(node: NodeProto, ins: (Info | undefined)[], a: Attrs, ctx: Ctx, counter: Counter): NodeResult {
  const body = a.graph('body') ?? fail('no body')
  const nScan = a.int('num_scan_inputs') ?? fail('no num_scan_inputs')
  const opset = counter.opset
  const inputs = (opset < 9 ? ins.slice(1) : ins).map((i) => i as Info)
  const nState = inputs.length - nScan
  const scanAxes = a.ints('scan_input_axes') ?? new Array(nScan).fill(0)
  const batched = opset < 9
  const bind: Info[] = inputs.slice(0, nState).map((s) => (batched ? { dtype: s.dtype, shape: s.shape.slice(1) } : s))
  let trip = -1
  inputs.slice(nState).forEach((s, i) => {
    const shape = batched ? s.shape.slice(1) : s.shape
    const ax = normAxis(scanAxes[i], shape.length)
    trip = shape[ax]
    bind.push({ dtype: s.dtype, shape: shape.filter((_, j) => j !== ax) })
  })
  const batch = batched ? inputs[0].shape[0] : 1
  const sub = runSub(body, ctx, counter, bind)
  const outAxes = a.ints('scan_output_axes')
  const outs: Info[] = sub.outputs
    .slice(0, nState)
    .map((o) => ({ dtype: o.dtype, shape: batched ? [batch, ...o.shape] : o.shape }))
  sub.outputs.slice(nState).forEach((o, i) => {
    const shape = [...o.shape]
    const ax = outAxes ? normAxis(outAxes[i], shape.length + 1) : 0
    shape.splice(ax, 0, trip)
    outs.push({ dtype: o.dtype, shape: batched ? [batch, ...shape] : shape })
  })
  mergeByOp(counter.byOp, sub.byOp, trip * batch)
  void node
  return { outputs: outs, flops: sub.flops * trip * batch, macs: sub.macs * trip * batch }
}

/** Parse `name=1x3x224x224` (the CLI's --input form) into a name and a shape. */
export function parseShapeArg(arg: string): [string, number[]] {
  const eq = arg.lastIndexOf('=')
  if (eq <= 0) throw new ShapeArgError(arg, 'no name= part')
  const dims = arg.slice(eq + 1)
  const shape = dims === '' || dims === 'scalar' ? [] : dims.split(/[x,]/).map(Number)
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new ShapeArgError(arg, `"${dims}" is not a shape`)
  }
  return [arg.slice(0, eq), shape]
}

/** Ops whose outputs depend on a random generator: a consensus model must not contain them. */
export const NONDETERMINISTIC_OPS: readonly string[] = [
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
]

/**
 * Names (`op (node)`) of the nodes, subgraphs included, whose outputs are not a function of the inputs: random ops,
 * and Dropout with a training_mode input (it may be true at run time).
 */
export function findNondeterministicOps(model: Uint8Array): string[] {
  const out: string[] = []
  const walk = (g: GraphProto): void => {
    for (const n of g.node ?? []) {
      const op = n.opType ?? ''
      if (NONDETERMINISTIC_OPS.includes(op) || (op === 'Dropout' && n.input?.[2]))
        out.push(`${op} (${n.name || n.output?.[0]})`)
      for (const a of n.attribute ?? []) {
        if (a.g) walk(a.g)
        for (const sg of a.graphs ?? []) walk(sg)
      }
    }
  }
  walk(decodeModel(model).graph as GraphProto)
  return out
}
