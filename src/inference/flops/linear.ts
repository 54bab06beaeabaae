// Multiply-accumulate ops: Conv, ConvTranspose, MatMul, Gemm, Einsum, Attention, RNNs, Det.
import { fmtShape } from '../errors.ts'
import type { Attrs, NodeProto } from '../proto.ts'
import type { Info, NodeResult, Rule, RuleTable } from './common.ts'
import { broadcast, FLOAT, fail, numel } from './common.ts'

const convRule: Rule = ({ node, a, ins }) => {
  return conv(node, ins, a)
}

const convTransposeRule: Rule = ({ a, ins }) => {
  return convTranspose(ins, a)
}

const matMulRule: Rule = ({ op, ins, need }) => {
  const A = need(0)
  const B = op === 'QLinearMatMul' ? need(3) : need(1)
  const { shape, macs } = matmul(A.shape, B.shape)
  const dtype = op === 'MatMulInteger' ? 6 : op === 'QLinearMatMul' ? (ins[7]?.dtype ?? A.dtype) : A.dtype
  return { outputs: [{ dtype, shape }], flops: 2 * macs, macs }
}

const gemmRule: Rule = ({ a, ins, need }) => {
  const A = need(0)
  const B = need(1)
  const [m, k] = a.int('transA', 0) ? [A.shape[1], A.shape[0]] : [A.shape[0], A.shape[1]]
  const [k2, n] = a.int('transB', 0) ? [B.shape[1], B.shape[0]] : [B.shape[0], B.shape[1]]
  if (k !== k2) fail(`inner dims ${k} and ${k2} differ`)
  const macs = m * n * k
  const bias = ins[2] ? m * n : 0
  return { outputs: [{ dtype: A.dtype, shape: [m, n] }], flops: 2 * macs + bias, macs }
}

const einsumRule: Rule = ({ a, ins }) => {
  return einsum(ins, a)
}

const attentionRule: Rule = ({ a, ins }) => {
  return attention(ins, a)
}

const lSTMRule: Rule = ({ node, op, a, ins }) => {
  return rnn(op, node, ins, a)
}

const detRule: Rule = ({ x, need }) => {
  need(0)
  const r = x.shape.length
  const n = x.shape[r - 1]
  const shape = x.shape.slice(0, -2)
  return { outputs: [{ dtype: x.dtype, shape }], flops: numel(shape) * Math.ceil((2 * n ** 3) / 3), macs: 0 }
}

export const RULES: RuleTable = {
  Conv: convRule,
  ConvInteger: convRule,
  QLinearConv: convRule,
  ConvTranspose: convTransposeRule,
  MatMul: matMulRule,
  MatMulInteger: matMulRule,
  QLinearMatMul: matMulRule,
  Gemm: gemmRule,
  Einsum: einsumRule,
  Attention: attentionRule,
  LSTM: lSTMRule,
  GRU: lSTMRule,
  RNN: lSTMRule,
  Det: detRule,
}

/** Output spatial dims of a convolution or pooling window (pads, strides, dilations, auto_pad, ceil mode). */
export function convOutDims(
  inSpatial: number[],
  kernel: number[],
  a: Attrs,
  ceil = false,
): { out: number[]; pads: number[] } {
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
