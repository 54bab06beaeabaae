// Shape and constant ops: they describe or create tensors (Reshape, Shape, Constant, Range, NonZero…).
import { fmtShape } from '../errors.ts'
import { protoValues } from '../proto.ts'
import type { Info, Rule, RuleTable } from './common.ts'
import { BOOL, FLOAT, fail, INT64, infoOfProto, MAX_VALUE, normAxis, numel } from './common.ts'

const constantRule: Rule = ({ a, counter }) => {
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

const identityRule: Rule = ({ x, need }) => {
  need(0)
  return { outputs: [{ ...x }, { dtype: BOOL, shape: x.shape }], flops: 0 }
}

const shapeRule: Rule = ({ a, x, need }) => {
  need(0)
  const r = x.shape.length
  let start = a.int('start', 0)
  let end = a.int('end', r)
  start = Math.min(Math.max(start < 0 ? start + r : start, 0), r)
  end = Math.min(Math.max(end < 0 ? end + r : end, 0), r)
  const v = x.shape.slice(start, Math.max(start, end))
  return { outputs: [{ dtype: INT64, shape: [v.length], value: v }], flops: 0 }
}

const sizeRule: Rule = ({ x, need }) => {
  need(0)
  return { outputs: [{ dtype: INT64, shape: [], value: [numel(x.shape)] }], flops: 0 }
}

const reshapeRule: Rule = ({ a, x, need, val, opset }) => {
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

const flattenRule: Rule = ({ a, x, need }) => {
  need(0)
  const axis = a.int('axis', 1)
  const ax = axis < 0 ? axis + x.shape.length : axis
  return {
    outputs: [{ dtype: x.dtype, shape: [numel(x.shape.slice(0, ax)), numel(x.shape.slice(ax))], value: x.value }],
    flops: 0,
  }
}

const squeezeRule: Rule = ({ node, a, x, need, val, opset }) => {
  need(0)
  const axes = opset >= 13 ? (node.input?.[1] ? val(1, 'axes') : undefined) : a.ints('axes')
  const r = x.shape.length
  const drop = axes
    ? new Set(axes.map((d) => normAxis(d, r)))
    : new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])))
  for (const d of drop) if (x.shape[d] !== 1) fail(`cannot squeeze axis ${d} of ${fmtShape(x.shape)}`)
  return { outputs: [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.has(i)), value: x.value }], flops: 0 }
}

const unsqueezeRule: Rule = ({ a, x, need, val, opset }) => {
  need(0)
  const axes = opset >= 13 ? val(1, 'axes') : (a.ints('axes') ?? fail('no axes'))
  const r = x.shape.length + axes.length
  const set = new Set(axes.map((d) => normAxis(d, r)))
  const out: number[] = []
  let j = 0
  for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : x.shape[j++])
  return { outputs: [{ dtype: x.dtype, shape: out, value: x.value }], flops: 0 }
}

const constantOfShapeRule: Rule = ({ a, val }) => {
  const shape = val(0, 'the shape')
  const t = a.tensor('value')
  const dtype = t?.dataType ?? FLOAT
  const fillv = t ? (protoValues(t)?.[0] ?? 0) : 0
  const n = numel(shape)
  return { outputs: [{ dtype, shape, value: n <= MAX_VALUE ? new Array(n).fill(fillv) : undefined }], flops: 0 }
}

const rangeRule: Rule = ({ need, val }) => {
  const [s, l, d] = [val(0, 'start')[0], val(1, 'limit')[0], val(2, 'delta')[0]]
  const n = Math.max(Math.ceil((l - s) / d), 0)
  const value = n <= MAX_VALUE ? Array.from({ length: n }, (_, i) => s + i * d) : undefined
  return { outputs: [{ dtype: need(0).dtype, shape: [n], value }], flops: 0 }
}

const eyeLikeRule: Rule = ({ a, x, need }) => {
  need(0)
  return { outputs: [{ dtype: a.int('dtype', x.dtype), shape: x.shape }], flops: 0 }
}

const oneHotRule: Rule = ({ a, need, val }) => {
  const idx = need(0)
  const depth = val(1, 'depth')[0]
  const r = idx.shape.length + 1
  const axis = normAxis(a.int('axis', -1), r)
  const shape = [...idx.shape]
  shape.splice(axis, 0, depth)
  return { outputs: [{ dtype: need(2).dtype, shape }], flops: 0 }
}

const compressRule: Rule = ({ a, x, need }) => {
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

const nonZeroRule: Rule = ({ x, need }) => {
  need(0)
  const n = x.value ? x.value.filter(Boolean).length : numel(x.shape)
  return { outputs: [{ dtype: INT64, shape: [x.shape.length, n] }], flops: numel(x.shape) }
}

export const RULES: RuleTable = {
  Constant: constantRule,
  Identity: identityRule,
  Dropout: identityRule,
  Shape: shapeRule,
  Size: sizeRule,
  Reshape: reshapeRule,
  Flatten: flattenRule,
  Squeeze: squeezeRule,
  Unsqueeze: unsqueezeRule,
  ConstantOfShape: constantOfShapeRule,
  Range: rangeRule,
  EyeLike: eyeLikeRule,
  OneHot: oneHotRule,
  Compress: compressRule,
  NonZero: nonZeroRule,
}
