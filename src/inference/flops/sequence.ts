import type { Info, Rule, RuleTable } from './common.ts'
import { fail, INT64, normAxis } from './common.ts'

const sequenceConstructRule: Rule = ({ ins }) => {
  return { outputs: [{ dtype: 0, shape: [], seq: ins.map((i) => i as Info) }], flops: 0 }
}

const sequenceEmptyRule: Rule = () => {
  return { outputs: [{ dtype: 0, shape: [], seq: [] }], flops: 0 }
}

const sequenceLengthRule: Rule = ({ need }) => {
  return { outputs: [{ dtype: INT64, shape: [], value: [seqOf(need(0)).length] }], flops: 0 }
}

const sequenceAtRule: Rule = ({ need, val }) => {
  const s = seqOf(need(0))
  const p = val(1, 'position')[0]
  return { outputs: [s[p < 0 ? p + s.length : p] ?? fail(`position ${p} out of range`)], flops: 0 }
}

const sequenceInsertRule: Rule = ({ node, need, val }) => {
  const s = [...seqOf(need(0))]
  const p = node.input?.[2] ? val(2, 'position')[0] : s.length
  s.splice(p < 0 ? p + s.length : p, 0, need(1))
  return { outputs: [{ dtype: 0, shape: [], seq: s }], flops: 0 }
}

const sequenceEraseRule: Rule = ({ node, need, val }) => {
  const s = [...seqOf(need(0))]
  const p = node.input?.[1] ? val(1, 'position')[0] : -1
  s.splice(p < 0 ? p + s.length : p, 1)
  return { outputs: [{ dtype: 0, shape: [], seq: s }], flops: 0 }
}

const splitToSequenceRule: Rule = ({ node, a, ins, x, need, val }) => {
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

const concatFromSequenceRule: Rule = ({ a, need }) => {
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

export const RULES: RuleTable = {
  SequenceConstruct: sequenceConstructRule,
  SequenceEmpty: sequenceEmptyRule,
  SequenceLength: sequenceLengthRule,
  SequenceAt: sequenceAtRule,
  SequenceInsert: sequenceInsertRule,
  SequenceErase: sequenceEraseRule,
  SplitToSequence: splitToSequenceRule,
  ConcatFromSequence: concatFromSequenceRule,
}

function seqOf(i: Info): Info[] {
  return i.seq ?? fail('expected a sequence')
}

function splitEven(len: number, chunk: number): number[] {
  const out: number[] = []
  for (let s = 0; s < len; s += chunk) out.push(Math.min(chunk, len - s))
  return out
}
