// The counter's driver: binds graph inputs and initializers, walks the nodes in order, dispatches each to its
// op family's rule table, and checks every inferred shape. docs/flops.md lists every rule.
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
} from './common.ts'
import { Ctx, FLOAT, fail, infoOfProto, MAX_VALUE, numel, ShapeFail } from './common.ts'
import { RULES as CONTROL, CONTROL_FLOW } from './control.ts'
import { RULES as ELEMENTWISE } from './elementwise.ts'
import { RULES as LINEAR } from './linear.ts'
import { RULES as MISC } from './misc.ts'
import { RULES as MOVEMENT } from './movement.ts'
import { RULES as REDUCE } from './reduce.ts'
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

/** Most node evaluations one count may take: bounds the counter's own cost on adversarial graphs. */
const MAX_NODE_EVALS = 1_000_000

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
  const counter = newCounter(opsetOf(m), { evals: 0 })
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
  const rule = RULES[op]
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
  for (const t of g.initializer ?? []) {
    const info = infoOfProto(t)
    ctx.infos.set(t.name ?? '', info)
    counter.params += numel(info.shape)
  }
  ;(g.input ?? []).forEach((v, i) => {
    if (bind[i]) ctx.infos.set(v.name ?? '', bind[i])
  })
  const sub = newCounter(counter.opset, counter.work)
  const { flops, macs } = runGraph(g, ctx, sub)
  counter.params += sub.params
  const outputs = (g.output ?? []).map(
    (o) => ctx.get(o.name ?? '') ?? fail(`subgraph output ${o.name} is never produced`),
  )
  return { flops, macs, outputs, byOp: sub.byOp }
}

function newCounter(opset: number, work: Counter['work']): Counter {
  const counter: Counter = {
    opset,
    params: 0,
    byOp: {},
    work,
    runSub: (g, parent, bind) => runSub(g, parent, counter, bind),
  }
  return counter
}
