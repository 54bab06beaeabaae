// Control flow: If counts the branch its condition picks (the larger one when unknown), Loop unrolls short
// loops and multiplies one symbolic pass for long ones, Scan multiplies its body by the scan length.
import { UnsupportedOpError } from '../errors.ts'
import type { Attrs, GraphProto, NodeProto } from '../proto.ts'
import type { Counter, Ctx, FlopReport, Info, NodeResult, RuleTable, SubResult } from './common.ts'
import { BOOL, fail, INT64, normAxis } from './common.ts'

/** Ops whose FLOPs are their subgraphs' (already in byOp under the subgraphs' own op types). */
export const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan'])

function mergeByOp(into: FlopReport['byOp'], from: FlopReport['byOp'], times: number, countNodes = true): void {
  for (const [op, b] of Object.entries(from)) {
    const t = into[op] ?? { count: 0, flops: 0, macs: 0, gas: 0 }
    if (countNodes) t.count += b.count
    t.flops += b.flops * times
    t.macs += b.macs * times
    t.gas += b.gas * times
    into[op] = t
  }
}

function ifNode(_node: NodeProto, ins: (Info | undefined)[], a: Attrs, ctx: Ctx, counter: Counter): NodeResult {
  const cond = ins[0] ?? fail('no condition')
  const thenG = a.graph('then_branch') ?? fail('no then_branch')
  const elseG = a.graph('else_branch') ?? fail('no else_branch')
  let chosen: SubResult
  if (cond.value) chosen = counter.runSub(cond.value[0] ? thenG : elseG, ctx, [])
  else {
    const branch = (g: GraphProto, which: string): SubResult => {
      try {
        return counter.runSub(g, ctx, [])
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
    // gas: the dearer branch, whichever has more FLOPs
    chosen = { ...chosen, cost: t.cost > e.cost ? t.cost : e.cost }
  }
  mergeByOp(counter.byOp, chosen.byOp, 1)
  return { outputs: chosen.outputs, flops: chosen.flops, macs: chosen.macs, cost: chosen.cost }
}

/** Loops up to this many iterations are unrolled (iteration number known to shape inference). */
export const MAX_UNROLL = 256

function loopNode(node: NodeProto, ins: (Info | undefined)[], a: Attrs, ctx: Ctx, counter: Counter): NodeResult {
  const body = a.graph('body') ?? fail('no body')
  const tripName = node.input?.[0]
  if (!tripName) fail('Loop without a trip count cannot be bounded statically')
  const trip = (ins[0]?.value ?? fail('the trip count is not known statically'))[0]
  if (!Number.isSafeInteger(trip)) fail(`trip count ${trip} is not a safe integer`)
  const carried = ins.slice(2).map((i) => i as Info)
  const nCarried = carried.length
  if (trip <= MAX_UNROLL) {
    // unroll: each iteration sees its iteration number and the previous iteration's carried values
    let state = carried
    let flops = 0
    let macs = 0
    let cost = BigInt(Math.max(0, trip)) * counter.schedule.perIteration
    let scans: Info[][] = []
    for (let i = 0; i < trip; i++) {
      const sub = counter.runSub(body, ctx, [
        { dtype: INT64, shape: [], value: [i] },
        { dtype: BOOL, shape: [] },
        ...state,
      ])
      flops += sub.flops
      macs += sub.macs
      cost += sub.cost
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
      const sub = counter.runSub(body, ctx, [
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
    return { outputs: outs, flops, macs, cost }
  }
  // long loops: one symbolic pass (iteration number and carried values unknown), times the trip count
  const bind: Info[] = [
    { dtype: INT64, shape: [] },
    { dtype: BOOL, shape: [] },
    ...carried.map((c) => ({ dtype: c.dtype, shape: c.shape, seq: c.seq })),
  ]
  const sub = counter.runSub(body, ctx, bind)
  const outs: Info[] = sub.outputs.slice(1, 1 + nCarried).map((o) => ({ dtype: o.dtype, shape: o.shape, seq: o.seq }))
  for (const scanOut of sub.outputs.slice(1 + nCarried))
    outs.push({ dtype: scanOut.dtype, shape: [trip, ...scanOut.shape] })
  mergeByOp(counter.byOp, sub.byOp, trip)
  const cost = BigInt(trip) * (sub.cost + counter.schedule.perIteration)
  return { outputs: outs, flops: sub.flops * trip, macs: sub.macs * trip, cost }
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
  const sub = counter.runSub(body, ctx, bind)
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
  const cost = BigInt(trip * batch) * (sub.cost + counter.schedule.perIteration)
  return { outputs: outs, flops: sub.flops * trip * batch, macs: sub.macs * trip * batch, cost }
}

export const RULES: RuleTable = {
  If: ({ node, ins, a, ctx, counter }) => ifNode(node, ins, a, ctx, counter),
  Loop: ({ node, ins, a, ctx, counter }) => loopNode(node, ins, a, ctx, counter),
  Scan: ({ node, ins, a, ctx, counter }) => scanNode(node, ins, a, ctx, counter),
}
