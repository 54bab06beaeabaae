// Registration-time bounds: a model is refused when no call could ever run within the memory bound, or when its
// memory cannot be bounded before it runs (shapes that depend on data no caller can give). docs/gas.md.
import { LatticeError } from '../../errors.ts'
import { ModelCheckError, UnsupportedOpError } from '../errors.ts'
import { decodeModel, type GraphProto, num } from '../proto.ts'
import type { InputShape } from './common.ts'
import { GraphSizeError, MemoryBoundError } from './errors.ts'
import { createFlopCounter } from './graph.ts'
import { CURRENT_GAS_SCHEDULE, type GasSchedule } from './schedule.ts'

/** What {@link checkModelBounds} found at the smallest admissible input shapes. */
export interface ModelBounds {
  /** Input shapes used: the given ones, else the declared ones with every dynamic dim set to 1. */
  shapes: Record<string, number[]>
  /** Static peak memory and execution gas at those shapes; null when they depend on values given per call. */
  peakBytes: number | null
  gas: number | null
  /** Why the bound is per call (the op whose shape needs an input's values). */
  note?: string
}

/** Integer element types: the precompile passes small integer inputs' values to the counter on every call. */
const INT_INPUTS = new Set([6, 7])

/** Counter failures that mean "this shape depends on a value", as opposed to an op it cannot shape. */
const DATA_DEPENDENT = /not known statically|trip count|cannot be bounded statically/

/**
 * Refuse (ModelCheckError, naming the op and node) a model whose static peak memory exceeds the schedule's bound
 * even at its smallest admissible shapes (every dynamic dim 1; memory only grows with the dims), or whose memory
 * cannot be bounded because a shape depends on data no call can supply (Range, ConstantOfShape, Reshape, Loop
 * trip counts computed from float data). Shapes that depend on an integer model input are bounded per call.
 */
export function checkModelBounds(
  model: Uint8Array,
  opts: { shapes?: Record<string, InputShape>; schedule?: GasSchedule } = {},
): ModelBounds {
  const graph = decodeModel(model).graph as GraphProto
  const inits = new Set((graph.initializer ?? []).map((t) => t.name ?? ''))
  const shapes: Record<string, number[]> = {}
  let intInputs = false
  for (const v of graph.input ?? []) {
    const name = v.name ?? ''
    if (inits.has(name)) continue
    const tt = v.type?.tensorType
    if (INT_INPUTS.has(num(tt?.elemType))) intInputs = true
    const given = opts.shapes?.[name]
    if (given) shapes[name] = Array.isArray(given) ? given : given.shape
    else if (tt?.shape)
      shapes[name] = (tt.shape.dim ?? []).map((d) => (d.dimValue != null && !d.dimParam ? num(d.dimValue) : 1))
  }
  const counter = createFlopCounter({ model, schedule: opts.schedule ?? CURRENT_GAS_SCHEDULE })
  try {
    const r = counter.count({ ...opts.shapes, ...shapes })
    return { shapes, peakBytes: r.peakBytes, gas: r.gas }
  } catch (err) {
    if (err instanceof GraphSizeError)
      throw new ModelCheckError(`the model is too large to run on-chain: ${err.shortMessage}`)
    if (err instanceof MemoryBoundError) {
      throw new ModelCheckError(
        `the model needs more memory than one call may use even at its smallest input shapes (${fmtShapes(shapes)}): ${err.shortMessage}`,
      )
    }
    if (err instanceof UnsupportedOpError && DATA_DEPENDENT.test(err.shortMessage)) {
      if (intInputs) return { shapes, peakBytes: null, gas: null, note: err.shortMessage }
      throw new ModelCheckError(
        `the model's memory cannot be bounded before it runs: op ${err.op} (node "${err.node}") has a shape that depends on computed data (${err.shortMessage}); make that shape a constant or an integer model input`,
      )
    }
    // an op the counter cannot shape at these sizes: analyseModel reports unsupported ops; calls are bounded one by one
    if (err instanceof LatticeError) return { shapes, peakBytes: null, gas: null, note: err.shortMessage }
    throw err
  }
}

const fmtShapes = (s: Record<string, number[]>) =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v.join('x') || 'scalar'}`)
    .join(', ')
