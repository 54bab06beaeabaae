import type { Attrs, NodeProto } from '../proto.ts'
import type { Info, NodeResult, Rule, RuleTable } from './common.ts'
import { broadcast, fail, MAX_VALUE, normAxis, numel, remap } from './common.ts'

const transposeRule: Rule = ({ a, x, need }) => {
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

const concatRule: Rule = ({ a, ins }) => {
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

const splitRule: Rule = ({ node, a, x, need, val, opset }) => {
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

const sliceRule: Rule = ({ node, a, ins, opset }) => {
  return slice(node, ins, a, opset)
}

const gatherRule: Rule = ({ a, x, need }) => {
  const idx = need(1)
  need(0)
  const r = x.shape.length
  const axis = normAxis(a.int('axis', 0), r)
  const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)]
  let value: number[] | undefined
  if (x.value && idx.value && r === 1) value = idx.value.map((i) => (x.value as number[])[i < 0 ? i + x.shape[0] : i])
  return { outputs: [{ dtype: x.dtype, shape, value }], flops: 0 }
}

const gatherElementsRule: Rule = ({ x, need }) => {
  need(0)
  return { outputs: [{ dtype: x.dtype, shape: need(1).shape }], flops: 0 }
}

const gatherNDRule: Rule = ({ a, x, need }) => {
  need(0)
  const idx = need(1)
  const b = a.int('batch_dims', 0)
  const last = idx.shape[idx.shape.length - 1]
  const shape = [...idx.shape.slice(0, -1), ...x.shape.slice(b + last)]
  return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
}

const scatterRule: Rule = ({ a, x, need }) => {
  need(0)
  return {
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    flops: a.str('reduction', 'none') === 'none' ? 0 : numel(need(2).shape),
  }
}

const expandRule: Rule = ({ x, need, val }) => {
  need(0)
  const target = val(1, 'the target shape')
  return { outputs: [{ dtype: x.dtype, shape: broadcast(x.shape, target) }], flops: 0 }
}

const tileRule: Rule = ({ x, need, val }) => {
  need(0)
  const reps = val(1, 'repeats')
  return { outputs: [{ dtype: x.dtype, shape: x.shape.map((d, i) => d * reps[i]) }], flops: 0 }
}

const padRule: Rule = ({ node, a, x, need, val, opset }) => {
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

const triluRule: Rule = ({ x, need }) => {
  need(0)
  return { outputs: [{ dtype: x.dtype, shape: x.shape }], flops: 0 }
}

const reverseSequenceRule: Rule = ({ x, need }) => {
  need(0)
  return { outputs: [{ dtype: x.dtype, shape: x.shape }], flops: 0 }
}

const depthToSpaceRule: Rule = ({ op, a, x, need }) => {
  need(0)
  const b = a.int('blocksize', 1)
  const [n, c, h, w] = x.shape
  const shape = op === 'DepthToSpace' ? [n, c / (b * b), h * b, w * b] : [n, c * b * b, h / b, w / b]
  return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
}

const maxUnpoolRule: Rule = ({ node, a, x, need, val }) => {
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

const resizeRule: Rule = ({ node, op, a, ins, opset }) => {
  return resize(op, node, ins, a, opset)
}

const gridSampleRule: Rule = ({ x, need }) => {
  need(0)
  const grid = need(1)
  const shape = [x.shape[0], x.shape[1], ...grid.shape.slice(1, -1)]
  return { outputs: [{ dtype: x.dtype, shape }], flops: numel(shape) * 4 }
}

const centerCropPadRule: Rule = ({ a, x, need, val }) => {
  need(0)
  const target = val(1, 'shape')
  const axes = a.ints('axes') ?? target.map((_, i) => i)
  const shape = [...x.shape]
  axes.forEach((ax, i) => {
    shape[normAxis(ax, shape.length)] = target[i]
  })
  return { outputs: [{ dtype: x.dtype, shape }], flops: 0 }
}

export const RULES: RuleTable = {
  Transpose: transposeRule,
  Concat: concatRule,
  Split: splitRule,
  Slice: sliceRule,
  Gather: gatherRule,
  GatherElements: gatherElementsRule,
  GatherND: gatherNDRule,
  Scatter: scatterRule,
  ScatterElements: scatterRule,
  ScatterND: scatterRule,
  Expand: expandRule,
  Tile: tileRule,
  Pad: padRule,
  Trilu: triluRule,
  ReverseSequence: reverseSequenceRule,
  DepthToSpace: depthToSpaceRule,
  SpaceToDepth: depthToSpaceRule,
  MaxUnpool: maxUnpoolRule,
  Resize: resizeRule,
  Upsample: resizeRule,
  GridSample: gridSampleRule,
  CenterCropPad: centerCropPadRule,
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
