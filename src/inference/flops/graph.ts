// The counter's driver: binds graph inputs and initializers, walks the nodes in order, dispatches each to its
// op family's rule table, and checks every inferred shape. docs/flops.md lists every rule.
import { LatticeError } from '../../errors.ts'
import { fmtShape, UnknownInputError, UnshapedInputError, UnsupportedOpError } from '../errors.ts'
import {
  Attrs,
  decodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  num,
  opsetOf,
  type ValueInfoProto,
} from '../proto.ts'
import type {
  Counter,
  CountFlopsOpts,
  FlopReport,
  Info,
  InputShape,
  NodeResult,
  Rule,
  Scope,
  SubResult,
  Work,
} from './common.ts'
import { Ctx, FLOAT, fail, infoOfProto, MAX_VALUE, numel, ShapeFail } from './common.ts'
import { RULES as CONTROL, CONTROL_FLOW, MAX_UNROLL } from './control.ts'
import { nodeCost, trafficBytes, wholeGas } from './cost.ts'
import { RULES as ELEMENTWISE } from './elementwise.ts'
import { GraphSizeError, MemoryBoundError } from './errors.ts'
import { RULES as LINEAR } from './linear.ts'
import { dtypeLabel, infoBytes, lastUses } from './memory.ts'
import { RULES as MISC } from './misc.ts'
import { RULES as MOVEMENT } from './movement.ts'
import { RULES as REDUCE } from './reduce.ts'
import { CURRENT_GAS_SCHEDULE, type GasSchedule, MICRO_GAS } from './schedule.ts'
import { RULES as SEQUENCE } from './sequence.ts'
import { RULES as SHAPE } from './shape.ts'
import { RULES as SIGNAL } from './signal.ts'

/** Every op the counter shapes and counts, by op type. */
export const RULES: Readonly<Record<string, Rule>> = Object.freeze({
  ...ELEMENTWISE,
  ...SHAPE,
  ...MOVEMENT,
  ...REDUCE,
  ...LINEAR,
  ...SIGNAL,
  ...MISC,
  ...SEQUENCE,
  ...CONTROL,
})

/** Standard ops the counter knows but cannot shape. */
const NO_SHAPE_RULE = new Set(['Col2Im'])

/**
 * Most node evaluations one count may take (unrolled loop iterations included): counting costs microseconds per
 * node, and a call refused while counting pays only the base, so this bounds the work a refusal can cost.
 */
const MAX_NODE_EVALS = 250_000

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
  return createFlopCounter({ model: opts.model, schedule: opts.schedule }).count(opts.inputs)
}

/** A decoded model that counts FLOPs for many input shapes (decoding is most of the cost on large models). */
export interface FlopCounter {
  /** Same as {@link countFlops} with these inputs. */
  count(inputs?: Record<string, InputShape>): FlopReport
  /**
   * Gas of counting this model once (`perCountedNode` times the static bound on node evaluations), part of every
   * report's `gas`; the precompile charges it before counting, so a call refused while counting pays for it.
   */
  readonly countGas: bigint
}

/**
 * Decode `model` once; `count` then runs only shape inference, the rules and the pricing. `schedule` gives the
 * prices and the memory bound (default: the current consensus profile's).
 */
export function createFlopCounter(opts: { model: Uint8Array; schedule?: GasSchedule }): FlopCounter {
  const m = decodeModel(opts.model)
  const schedule = opts.schedule ?? CURRENT_GAS_SCHEDULE
  const size = nodeCount(m.graph as GraphProto)
  // a graph over the node limit is refused before any node is evaluated: no counting to pay for
  const bound = size > schedule.maxNodes ? 0 : evalBound(m.graph as GraphProto)
  const countGas = wholeGas(BigInt(bound) * schedule.perCountedNode)
  return { count: (inputs) => countDecoded(m, schedule, size, countGas, inputs), countGas }
}

/**
 * Most node evaluations counting `g` can take: every node once, a Loop's body up to MAX_UNROLL times (short
 * loops are unrolled), an If's both branches; at most MAX_NODE_EVALS, where counting stops.
 */
function evalBound(g: GraphProto): number {
  let n = 0
  for (const node of g.node ?? []) {
    n++
    const times = node.opType === 'Loop' ? MAX_UNROLL : 1
    for (const a of node.attribute ?? []) {
      if (a.g) n += evalBound(a.g) * times
      for (const sg of a.graphs ?? []) n += evalBound(sg) * times
    }
    if (n >= MAX_NODE_EVALS) return MAX_NODE_EVALS
  }
  return n
}

/** Nodes of a graph and of all its subgraphs. */
function nodeCount(g: GraphProto): number {
  let n = 0
  for (const node of g.node ?? []) {
    n++
    for (const a of node.attribute ?? []) {
      if (a.g) n += nodeCount(a.g)
      for (const sg of a.graphs ?? []) n += nodeCount(sg)
    }
  }
  return n
}

function countDecoded(
  m: ModelProto,
  schedule: GasSchedule,
  size: number,
  countGas: bigint,
  inputs?: Record<string, InputShape>,
): FlopReport {
  if (size > schedule.maxNodes) throw new GraphSizeError(size, schedule.maxNodes)
  const opts = { inputs }
  const counter = newCounter(opsetOf(m), { evals: 0, peakBytes: 0, peakNode: '' }, schedule)
  const graph = m.graph as GraphProto
  const ctx = new Ctx()
  const inits = new Set<string>()
  const owned = new Map<string, number>()
  for (const t of graph.initializer ?? []) {
    const info = infoOfProto(t)
    ctx.infos.set(t.name ?? '', info)
    inits.add(t.name ?? '')
    owned.set(t.name ?? '', infoBytes(info))
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
    const info = { dtype: decl.dtype, shape, value: value && value.length <= MAX_VALUE ? value : undefined }
    ctx.infos.set(name, info)
    owned.set(name, infoBytes(info))
  }
  const { flops, macs, cost, bytes } = runGraph(graph, ctx, counter, 0, owned)
  const outputShapes: Record<string, number[]> = {}
  for (const o of graph.output ?? []) {
    const info = ctx.get(o.name ?? '')
    if (!info) throw new UnsupportedOpError('output', o.name ?? '', 'graph output is never produced')
    outputShapes[o.name ?? ''] = info.shape
  }
  return {
    flops,
    macs,
    params: counter.params,
    byOp: counter.byOp,
    outputShapes,
    gas: Number(wholeGas(cost) + countGas),
    countGas: Number(countGas),
    bytes,
    peakBytes: counter.work.peakBytes,
    peakNode: counter.work.peakNode,
    schedule: schedule.id,
  }
}

interface GraphResult {
  flops: number
  macs: number
  /** Micro-gas. */
  cost: bigint
  bytes: number
}

/**
 * Shape, count and price every node of `g` in order, following its live tensors: `base` bytes are live outside
 * it (enclosing graphs), `owned` are its initializers and inputs. Throws MemoryBoundError when the live set
 * passes the schedule's bound.
 */
function runGraph(g: GraphProto, ctx: Ctx, counter: Counter, base: number, owned: Map<string, number>): GraphResult {
  let flops = 0
  let macs = 0
  let cost = 0n
  let bytes = 0
  const s = counter.schedule
  const last = lastUses(g)
  const keep = new Set((g.output ?? []).map((o) => o.name ?? ''))
  for (const i of g.initializer ?? []) keep.add(i.name ?? '')
  let live = 0
  for (const b of owned.values()) live += b
  const nodes = g.node ?? []
  for (let k = 0; k < nodes.length; k++) {
    const node = nodes[k]
    const op = node.opType ?? ''
    const name = node.name || `${op}:${node.output?.[0] ?? '?'}`
    const domain = node.domain ?? ''
    if (domain !== '' && domain !== 'ai.onnx')
      throw new UnsupportedOpError(`${domain}.${op}`, name, `ops of domain ${domain} are not counted`)
    if (++counter.work.evals > MAX_NODE_EVALS) {
      throw new UnsupportedOpError(op, name, `counting needs over ${MAX_NODE_EVALS} node evaluations (loops included)`)
    }
    counter.liveNow = base + live
    let r: NodeResult
    try {
      r = evalNode(node, ctx, counter)
    } catch (err) {
      if (err instanceof ShapeFail) throw new UnsupportedOpError(op, name, err.message)
      if (err instanceof LatticeError) throw err
      throw new UnsupportedOpError(op, name, `shape inference failed: ${(err as Error).message}`)
    }
    const outs = node.output ?? []
    let outBytes = 0
    let largest: { name: string; info: Info; bytes: number } | undefined
    for (let i = 0; i < outs.length; i++) {
      if (!outs[i]) continue
      const info = r.outputs[i]
      if (!info) throw new UnsupportedOpError(op, name, `cannot infer the shape of output ${i}`)
      for (const d of info.shape) {
        if (!Number.isSafeInteger(d) || d < 0)
          throw new UnsupportedOpError(op, name, `inferred invalid shape ${fmtShape(info.shape)}`)
      }
      const ob = infoBytes(info)
      outBytes += ob
      if (!largest || ob > largest.bytes) largest = { name: outs[i], info, bytes: ob }
    }
    // the node's inputs and outputs are all live while it runs
    const during = base + live + outBytes
    if (during > s.maxPeakBytes) {
      throw new MemoryBoundError(
        op,
        name,
        during,
        s.maxPeakBytes,
        largest && {
          name: largest.name,
          dtype: dtypeLabel(largest.info.dtype),
          shape: largest.info.shape,
          bytes: largest.bytes,
        },
      )
    }
    if (during > counter.work.peakBytes) {
      counter.work.peakBytes = during
      counter.work.peakNode = name
    }
    let inBytes = 0
    for (const n of node.input ?? []) if (n) inBytes += infoBytes(ctx.get(n) as Info)
    for (let i = 0; i < outs.length; i++) {
      if (!outs[i]) continue
      ctx.infos.set(outs[i], r.outputs[i] as Info)
      const ob = infoBytes(r.outputs[i] as Info)
      owned.set(outs[i], ob)
      live += ob
    }
    // free what no later node reads (graph outputs and initializers stay)
    for (const n of [...(node.input ?? []), ...outs]) {
      if (!n || keep.has(n) || !owned.has(n)) continue
      const lu = last.get(n)
      if (lu === undefined || lu <= k) {
        live -= owned.get(n) as number
        owned.delete(n)
      }
    }
    const control = CONTROL_FLOW.has(op)
    const f = Math.ceil(r.flops)
    const m = Math.ceil(r.macs ?? 0)
    const work = { op, node: name, flops: control ? 0 : f, inBytes, outBytes }
    const own = nodeCost(s, work)
    const moved = trafficBytes(work)
    flops += f
    macs += m
    cost += own + (r.cost ?? 0n)
    bytes += moved
    const b = counter.byOp[op] ?? { count: 0, flops: 0, macs: 0, gas: 0 }
    b.count++
    b.gas += Number(own) / Number(MICRO_GAS)
    // control flow: the ops of its subgraphs are already in byOp under their own types
    if (!control) {
      b.flops += f
      b.macs += m
    }
    counter.byOp[op] = b
  }
  return { flops, macs, cost, bytes }
}

function evalNode(node: NodeProto, ctx: Ctx, counter: Counter): NodeResult {
  const op = node.opType ?? ''
  const a = new Attrs(node)
  const ins = (node.input ?? []).map((n) => (n ? ctx.get(n) : undefined))
  node.input?.forEach((n, i) => {
    if (n && !ins[i]) fail(`input "${n}" is not produced by any earlier node`)
  })
  // own keys only: an op type is the model's text, and "toString" or "__proto__" would find Object's members
  const rule = Object.hasOwn(RULES, op) ? RULES[op] : undefined
  if (!rule) {
    if (NO_SHAPE_RULE.has(op)) return fail('no shape rule')
    throw new UnsupportedOpError(op, node.name || op, 'the FLOP counter has no rule for this op')
  }
  return rule({
    node,
    op,
    a,
    ins,
    x: ins[0] as Info,
    opset: counter.opset,
    ctx,
    counter,
    need: (i) => ins[i] ?? fail(`input ${i} is missing`),
    val: (i, what) => ins[i]?.value ?? fail(`the value of ${what} (input ${i}) is not known statically`),
  })
}

/** Run a subgraph with a fresh per-op table; its inputs bound to `bind`. */
function runSub(g: GraphProto, parent: Scope, counter: Counter, bind: Info[]): SubResult {
  const ctx = new Ctx(parent)
  const owned = new Map<string, number>()
  for (const t of g.initializer ?? []) {
    const info = infoOfProto(t)
    ctx.infos.set(t.name ?? '', info)
    owned.set(t.name ?? '', infoBytes(info))
    counter.params += numel(info.shape)
  }
  ;(g.input ?? []).forEach((v, i) => {
    if (!bind[i]) return
    ctx.infos.set(v.name ?? '', bind[i])
    owned.set(v.name ?? '', infoBytes(bind[i]))
  })
  const sub = newCounter(counter.opset, counter.work, counter.schedule)
  const { flops, macs, cost, bytes } = runGraph(g, ctx, sub, counter.liveNow, owned)
  counter.params += sub.params
  const outputs = (g.output ?? []).map(
    (o) => ctx.get(o.name ?? '') ?? fail(`subgraph output ${o.name} is never produced`),
  )
  return { flops, macs, cost, bytes, outputs, byOp: sub.byOp }
}

function newCounter(opset: number, work: Work, schedule: GasSchedule): Counter {
  const counter: Counter = {
    opset,
    params: 0,
    byOp: {},
    work,
    schedule,
    liveNow: 0,
    runSub: (g, parent, bind) => runSub(g, parent, counter, bind),
  }
  return counter
}
