// Element-wise ops: unary (activations, casts, normalisations applied per element) and broadcasting n-ary ops.
// One FLOP per output element; small known values are propagated (shape arithmetic runs through Add, Mul…).
import type { Info, NodeIn, NodeResult, Rule, RuleTable } from './common.ts'
import { BOOL, bcastIndex, broadcast, FLOAT, INT_TYPES, MAX_VALUE, numel } from './common.ts'

export const BINARY: Record<string, (a: number, b: number) => number> = {
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
export const UNARY: Record<string, (a: number) => number> = {
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
export const COMPARE = new Set([
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
/** Elementwise / activation / normalisation ops: one FLOP per output element, output shaped like input 0. */
export const UNARY_OPS = new Set([
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
export const NARY_OPS = new Set([
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

function unary({ node, op, a, ins, x, need }: NodeIn): NodeResult {
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
  return { outputs: outs, flops: numel(x.shape) }
}

function nary({ op, ins, x, need }: NodeIn): NodeResult {
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

export const RULES: RuleTable = Object.fromEntries([
  ...[...UNARY_OPS].map((op): [string, Rule] => [op, unary]),
  ...[...NARY_OPS].map((op): [string, Rule] => [op, nary]),
])
