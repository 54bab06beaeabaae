import type { Attrs, NodeProto } from '../proto.ts'
import type { Info, NodeResult, Rule, RuleTable } from './common.ts'
import { FLOAT, fail, normAxis, numel } from './common.ts'

const dFTRule: Rule = ({ node, a, ins }) => {
  return dft(node, ins, a)
}

const sTFTRule: Rule = ({ node, a, ins }) => {
  return stft(node, ins, a)
}

const hannWindowRule: Rule = ({ a, val }) => {
  const n = val(0, 'size')[0]
  return { outputs: [{ dtype: a.int('output_datatype', FLOAT), shape: [n] }], flops: n }
}

const melWeightMatrixRule: Rule = ({ a, val }) => {
  const mel = val(0, 'num_mel_bins')[0]
  const dftLen = val(1, 'dft_length')[0]
  const shape = [Math.floor(dftLen / 2) + 1, mel]
  return { outputs: [{ dtype: a.int('output_datatype', FLOAT), shape }], flops: numel(shape) }
}

export const RULES: RuleTable = {
  DFT: dFTRule,
  STFT: sTFTRule,
  HannWindow: hannWindowRule,
  HammingWindow: hannWindowRule,
  BlackmanWindow: hannWindowRule,
  MelWeightMatrix: melWeightMatrixRule,
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
