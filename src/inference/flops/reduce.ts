import type { Attrs, NodeProto } from '../proto.ts'
import type { Info, NodeResult, Rule, RuleTable } from './common.ts'
import { FLOAT, fail, INT64, normAxis, numel } from './common.ts'
import { convOutDims } from './linear.ts'

const uniqueRule: Rule = ({ a, x, need }) => {
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

const topKRule: Rule = ({ a, x, need, val, opset }) => {
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

const argMaxRule: Rule = ({ node, a, ins, opset }) => {
  return reduce(node, ins, a, opset)
}

const maxPoolRule: Rule = ({ node, a, ins }) => {
  return pool(node, ins, a)
}

const globalAveragePoolRule: Rule = ({ x, need }) => {
  need(0)
  const shape = [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)]
  return { outputs: [{ dtype: x.dtype, shape }], flops: numel(x.shape) }
}

const maxRoiPoolRule: Rule = ({ op, a, x, need }) => {
  need(0)
  const rois = need(1)
  const ph = op === 'RoiAlign' ? a.int('output_height', 1) : (a.ints('pooled_shape') ?? [1, 1])[0]
  const pw = op === 'RoiAlign' ? a.int('output_width', 1) : (a.ints('pooled_shape') ?? [1, 1])[1]
  const shape = [rois.shape[0], x.shape[1], ph, pw]
  const sr = op === 'RoiAlign' ? Math.max(a.int('sampling_ratio', 0), 2) : 2
  return { outputs: [{ dtype: x.dtype, shape }], flops: numel(shape) * sr * sr * 4 }
}

const layerNormalizationRule: Rule = ({ a, x, need }) => {
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

const negativeLogLikelihoodLossRule: Rule = ({ op, a, x, need }) => {
  need(0)
  const target = need(1)
  const red = a.str('reduction', 'mean')
  const shape = red === 'none' ? target.shape : []
  const outs: Info[] = [{ dtype: x.dtype, shape }]
  if (op === 'SoftmaxCrossEntropyLoss') outs.push({ dtype: x.dtype, shape: x.shape })
  return { outputs: outs, flops: numel(x.shape) + numel(target.shape) }
}

const nonMaxSuppressionRule: Rule = ({ node, need, val }) => {
  const boxes = need(0)
  const scores = need(1)
  const [batches, classes, nb] = scores.shape
  const maxOut = node.input?.[2] ? val(2, 'max_output_boxes_per_class')[0] : 0
  const sel = batches * classes * Math.min(maxOut, nb)
  return { outputs: [{ dtype: INT64, shape: [sel, 3] }], flops: batches * classes * nb * nb + numel(boxes.shape) }
}

export const RULES: RuleTable = {
  Unique: uniqueRule,
  TopK: topKRule,
  ArgMax: argMaxRule,
  ArgMin: argMaxRule,
  ReduceSum: argMaxRule,
  ReduceMean: argMaxRule,
  ReduceMax: argMaxRule,
  ReduceMin: argMaxRule,
  ReduceProd: argMaxRule,
  ReduceL1: argMaxRule,
  ReduceL2: argMaxRule,
  ReduceLogSum: argMaxRule,
  ReduceLogSumExp: argMaxRule,
  ReduceSumSquare: argMaxRule,
  MaxPool: maxPoolRule,
  AveragePool: maxPoolRule,
  LpPool: maxPoolRule,
  GlobalAveragePool: globalAveragePoolRule,
  GlobalMaxPool: globalAveragePoolRule,
  GlobalLpPool: globalAveragePoolRule,
  MaxRoiPool: maxRoiPoolRule,
  RoiAlign: maxRoiPoolRule,
  LayerNormalization: layerNormalizationRule,
  NegativeLogLikelihoodLoss: negativeLogLikelihoodLossRule,
  SoftmaxCrossEntropyLoss: negativeLogLikelihoodLossRule,
  NonMaxSuppression: nonMaxSuppressionRule,
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
