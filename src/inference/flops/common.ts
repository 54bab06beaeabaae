// Types and shape helpers shared by every rule file of the FLOP counter (src/inference/flops/*.ts).
import { fmtShape } from '../errors.ts'
import type { Attrs, GraphProto, NodeProto, TensorProto } from '../proto.ts'
import { protoDims, protoValues } from '../proto.ts'
import type { GasSchedule } from './schedule.ts'

/** Result of {@link countFlops}. */
export interface FlopReport {
  /** Gas-relevant total: 2 per MAC plus the per-element rules. */
  flops: number
  /** Multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul, MatMul-like, RNN and attention ops only. */
  macs: number
  /** Elements of every initializer and Constant tensor (weights, biases, BN statistics, shape constants). */
  params: number
  /** Per op type: node count, FLOPs, MACs and execution gas (loop bodies times their iterations). */
  byOp: Record<string, { count: number; flops: number; macs: number; gas: number }>
  /** Inferred shape of every graph output. */
  outputShapes: Record<string, number[]>
  /**
   * Execution gas of one run under the counter's gas schedule: weighted FLOPs, bytes every node reads and
   * writes, a per-node cost, and the counting itself (`countGas`); base and input/output words are the
   * precompile's (src/precompiles/params.ts).
   */
  gas: number
  /** The part of `gas` that pays for counting (FlopCounter.countGas), charged before counting. */
  countGas: number
  /** Bytes read and written by every node, intermediates included (loop bodies times their iterations). */
  bytes: number
  /** Static peak memory: the most bytes of tensors live at once in sequential execution, weights included. */
  peakBytes: number
  /** The node at which that peak is reached. */
  peakNode: string
  /** The gas schedule's id, e.g. `consensus-v2`. */
  schedule: string
}

/** Concrete shape (and optionally values, for shape-deciding integer inputs) of one graph input. */
export type InputShape = number[] | { shape: number[]; values?: ArrayLike<number | bigint> }

/** Options of {@link countFlops}. */
export interface CountFlopsOpts {
  /** Model bytes. */
  model: Uint8Array
  /** Concrete shapes by input name; required for inputs with dynamic dims, checked against static ones. */
  inputs?: Record<string, InputShape>
  /** Prices and memory bound; default the current consensus profile's (CURRENT_GAS_SCHEDULE). */
  schedule?: GasSchedule
}

/** Tensor info during inference; `value` only for small tensors whose content is known statically. */
export interface Info {
  dtype: number
  shape: number[]
  value?: number[]
  /** Sequence element infos (for sequence-typed values). */
  seq?: Info[]
}

/** Largest tensor whose values we propagate (shape arithmetic only needs small ones). */
export const MAX_VALUE = 4096

export class ShapeFail extends Error {}
export const fail = (why: string): never => {
  throw new ShapeFail(why)
}

export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)
export const BOOL = 9
export const INT64 = 7
export const FLOAT = 1

export function broadcast(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length))
  const out = new Array<number>(rank).fill(1)
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i
      const d = s[i]
      if (out[j] === 1) out[j] = d
      else if (d !== 1 && d !== out[j]) fail(`shapes ${shapes.map((x) => fmtShape(x)).join(' and ')} do not broadcast`)
    }
  }
  return out
}

export function normAxis(a: number, rank: number): number {
  const r = a < 0 ? a + rank : a
  if (r < 0 || r >= Math.max(rank, 1)) fail(`axis ${a} is out of range for rank ${rank}`)
  return r
}

/** Index of a flat offset under broadcasting, for small value evaluation. */
export function bcastIndex(outShape: number[], inShape: number[], flat: number): number {
  let idx = 0
  let stride = 1
  let rem = flat
  const coords = new Array<number>(outShape.length)
  for (let i = outShape.length - 1; i >= 0; i--) {
    coords[i] = rem % outShape[i]
    rem = Math.floor(rem / outShape[i])
  }
  for (let i = inShape.length - 1; i >= 0; i--) {
    const c = coords[outShape.length - inShape.length + i]
    idx += (inShape[i] === 1 ? 0 : c) * stride
    stride *= inShape[i]
  }
  return idx
}

export function strides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length).fill(1)
  for (let i = shape.length - 2; i >= 0; i--) st[i] = st[i + 1] * shape[i + 1]
  return st
}

/** Values of an output whose element at coords c is the input element at map(c). */
export function remap(
  outShape: number[],
  inShape: number[],
  inValue: number[],
  map: (c: number[]) => number[],
): number[] {
  const n = numel(outShape)
  const ist = strides(inShape)
  const out = new Array<number>(n)
  const c = new Array<number>(outShape.length).fill(0)
  for (let k = 0; k < n; k++) {
    const ic = map(c)
    let idx = 0
    for (let i = 0; i < ic.length; i++) idx += ic[i] * ist[i]
    out[k] = inValue[idx]
    for (let i = outShape.length - 1; i >= 0; i--) {
      if (++c[i] < outShape[i]) break
      c[i] = 0
    }
  }
  return out
}

/** Integer element types (ONNX TensorProto.DataType codes). */
export const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13])

/** What a rule returns: output infos (in node output order), FLOPs and, for multiply-accumulate ops, MACs. */
export interface NodeResult {
  outputs: (Info | undefined)[]
  flops: number
  macs?: number
  /** Control flow only: micro-gas of the subgraphs' nodes and iterations, already multiplied by their runs. */
  cost?: bigint
}

/** Name lookup, through enclosing graphs for subgraphs. */
export interface Scope {
  get(name: string): Info | undefined
}

/** Infos of one graph's values; subgraphs see their parent's. */
export class Ctx implements Scope {
  readonly infos = new Map<string, Info>()
  constructor(readonly parent?: Scope) {}
  get(name: string): Info | undefined {
    return this.infos.get(name) ?? this.parent?.get(name)
  }
}

/** A subgraph's count, as control-flow rules see it. */
export interface SubResult {
  flops: number
  macs: number
  /** Micro-gas of one run of the subgraph. */
  cost: bigint
  /** Bytes its nodes read and write in one run. */
  bytes: number
  outputs: Info[]
  byOp: FlopReport['byOp']
}

/** State of one count, shared with subgraphs. */
export interface Counter {
  opset: number
  params: number
  byOp: FlopReport['byOp']
  /** Shared with subgraphs: node evaluations so far (unrolled loops count every iteration) and the peak. */
  work: Work
  readonly schedule: GasSchedule
  /** Bytes live outside the node being evaluated (enclosing graphs included): a subgraph's starting point. */
  liveNow: number
  /** Count a subgraph with its inputs bound to `bind` (graph.ts supplies it; rules never import graph.ts). */
  runSub(g: GraphProto, parent: Scope, bind: Info[]): SubResult
}

/** Counting state shared by a graph and all its subgraphs. */
export interface Work {
  evals: number
  peakBytes: number
  peakNode: string
}

/** Everything a rule may read about the node it shapes and counts. */
export interface NodeIn {
  node: NodeProto
  op: string
  a: Attrs
  ins: (Info | undefined)[]
  /** Input 0 (check with `need(0)` before reading it). */
  x: Info
  opset: number
  ctx: Ctx
  counter: Counter
  /** Input i, or a shape failure when it is missing. */
  need(i: number): Info
  /** Statically known values of input i, or a shape failure naming `what`. */
  val(i: number, what: string): number[]
}

/** Shapes a node's outputs and counts its FLOPs. */
export type Rule = (n: NodeIn) => NodeResult
/** Rules by op type; one table per op family file. */
export type RuleTable = Readonly<Record<string, Rule>>

/** Info of an initializer or Constant tensor (values kept for small ones). */
export function infoOfProto(t: TensorProto): Info {
  const hit = PROTO_INFOS.get(t)
  if (hit) return hit
  const shape = protoDims(t)
  const info: Info = { dtype: t.dataType ?? FLOAT, shape }
  if (numel(shape) <= MAX_VALUE) {
    const v = protoValues(t)
    if (v) info.value = v
  }
  PROTO_INFOS.set(t, info)
  return info
}

/**
 * Infos of initializers and Constant values, read once per decoded model: decoding small weights' values on
 * every count was most of a count on real models. Rules never mutate an input's info (they build new ones).
 */
const PROTO_INFOS = new WeakMap<TensorProto, Info>()
