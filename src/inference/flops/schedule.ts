// The inference gas schedule, versioned by consensus profile id as ethereumjs keys gas by EIP: a change of
// prices is a new profile, never an edit of a published one. docs/gas.md explains every field; the weights of
// the current profile come from `npm run bench:gas` (docs/benchmarks.md).
import { UnknownProfileError } from '../errors.ts'
import type { OpFamily } from './families.ts'

/** Weights are in micro-gas (1e-6 gas) so that cheap ops keep integer prices; totals round up to whole gas. */
export const MICRO_GAS = 1_000_000n

/** One profile's prices and limits. */
export interface GasSchedule {
  /** The consensus profile these prices belong to, e.g. `consensus-v2`. */
  readonly id: string
  /** Charged on every call before anything is decoded. */
  readonly base: bigint
  /** Per started 32-byte word of input tensor data (decoding and copying; calldata is paid separately). */
  readonly perInputWord: bigint
  /** Per started 32-byte word of output tensor data (sizes known from static shape inference). */
  readonly perOutputWord: bigint
  /** Per item of an inferBatch, on top of one base. */
  readonly perBatchItem: bigint
  /** What the `estimate` method costs. */
  readonly estimate: bigint
  /**
   * Per element `withinTolerance` compares, on top of the base and the data words (docs/gas.md). Absent: the profile predates the
   * method, whose selector is then unknown as it was when chains under that profile were made.
   */
  readonly perToleranceElement?: bigint
  /** Micro-gas per FLOP, by op family. */
  readonly perFlop: Readonly<Record<OpFamily, bigint>>
  /**
   * Percent of its family's FLOP and byte prices that an op pays, for ops whose kernels run much faster or
   * slower than their family's (e.g. the vectorised binary arithmetic among the element-wise ops); 100 for
   * every op not listed. The per-node cost is not scaled.
   */
  readonly opPercent: Readonly<Record<string, bigint>>
  /** Micro-gas per byte a node reads or writes, by op family (intermediates included). */
  readonly perByte: Readonly<Record<OpFamily, bigint>>
  /** Micro-gas per node evaluated (a loop body's nodes once per iteration): dispatch, allocation, bookkeeping. */
  readonly perNode: bigint
  /** Micro-gas per Loop or Scan iteration, on top of its body's nodes (subgraph set-up, state copies). */
  readonly perIteration: bigint
  /**
   * Micro-gas per node the counter may evaluate (static bound: subgraphs included, loop bodies times the
   * counter's unroll limit): the shape inference and pricing done before the run. Charged with the base before
   * counting, so a call refused while counting pays for the counting it caused.
   */
  readonly perCountedNode: bigint
  /**
   * Largest static peak memory of one call in bytes (live tensors during sequential execution, weights
   * included). A call over it is refused before any work; a model over it for every admissible shape is refused
   * at registration. `Infinity`: no bound (consensus-v1 had none).
   */
  readonly maxPeakBytes: number
  /**
   * Most nodes a model may have, subgraphs included (`Infinity` under consensus-v1). Counting and loading a graph
   * cost time and memory per node before anything is charged for them; real models have a few thousand.
   */
  readonly maxNodes: number
}

const per = (all: bigint, over: Partial<Record<OpFamily, bigint>> = {}): Readonly<Record<OpFamily, bigint>> =>
  Object.freeze({
    mac: all,
    conv: all,
    elementwise: all,
    transcendental: all,
    reduction: all,
    normalisation: all,
    movement: all,
    permute: all,
    shape: all,
    control: all,
    ...over,
  })

/**
 * consensus-v1 (native ONNX Runtime): FLOPs only, 2,500 per gas whatever the op, data movement free, no memory
 * bound. Kept so chains made with v1 replay with the gas they were built with.
 */
export const GAS_SCHEDULE_V1: GasSchedule = Object.freeze({
  id: 'consensus-v1',
  base: 20_000n,
  perInputWord: 1n,
  perOutputWord: 1n,
  perBatchItem: 2_000n,
  estimate: 5_000n,
  perFlop: per(400n),
  opPercent: {},
  perByte: per(0n),
  perNode: 0n,
  perIteration: 0n,
  perCountedNode: 0n,
  maxPeakBytes: Number.POSITIVE_INFINITY,
  maxNodes: Number.POSITIVE_INFINITY,
})

/** 256 MiB: the static peak-memory bound of one call under consensus-v2. */
export const MAX_PEAK_BYTES_V2 = 256 * 1024 * 1024

/**
 * consensus-v2 (onnxruntime-web, WebAssembly, one thread): compute weighted per op family, plus the bytes every
 * node reads and writes, plus a per-node cost; a 256 MiB static peak-memory bound per call. Calibrated with
 * `npm run bench:gas` so every family's time per gas is within 0.5–2x of the EVM's (a keccak loop).
 */
export const GAS_SCHEDULE_V2: GasSchedule = Object.freeze({
  id: 'consensus-v2',
  base: 8_000n,
  perInputWord: 1n,
  perOutputWord: 1n,
  perBatchItem: 2_000n,
  estimate: 5_000n,
  perToleranceElement: 1n,
  perFlop: per(0n, {
    mac: 180n,
    conv: 230n,
    elementwise: 200n,
    transcendental: 12_000n,
    reduction: 420n,
    normalisation: 16_000n,
    permute: 2_800n,
  }),
  // measured apart from their families (docs/benchmarks.md): the runtime's binary arithmetic is vectorised (3-6x
  // faster per element than its Relu), its Tanh and Softmax are 2-2.5x faster than Erf and LayerNorm, its
  // ReduceSum (axes as an input) about 1.7x slower than ReduceMax; over four runs Erf stayed at 1.8-2.6x the
  // reference, Sigmoid at 0.5-1.1x and MaxPool at 1.55-2.1x under the family price, hence their own
  opPercent: Object.freeze({
    Add: 35n,
    Sub: 35n,
    Mul: 35n,
    Div: 35n,
    Tanh: 50n,
    Erf: 130n,
    Sigmoid: 80n,
    Softmax: 40n,
    LogSoftmax: 40n,
    ReduceSum: 170n,
    MaxPool: 125n,
  }),
  perByte: per(260n, { movement: 130n, permute: 1_000n, shape: 0n }),
  perNode: 2_000_000n,
  perIteration: 3_400_000n,
  perCountedNode: 35_000_000n,
  maxPeakBytes: MAX_PEAK_BYTES_V2,
  maxNodes: 50_000,
})

/** Gas schedules by consensus profile id. */
export const GAS_SCHEDULES: Readonly<Record<string, GasSchedule>> = Object.freeze({
  [GAS_SCHEDULE_V1.id]: GAS_SCHEDULE_V1,
  [GAS_SCHEDULE_V2.id]: GAS_SCHEDULE_V2,
})

/** The schedule the precompile charges by default: the current consensus profile's. */
export const CURRENT_GAS_SCHEDULE: GasSchedule = GAS_SCHEDULE_V2

/** The gas schedule of a consensus profile id. */
export function gasSchedule(profileId: string): GasSchedule {
  const s = GAS_SCHEDULES[profileId]
  if (!s) throw new UnknownProfileError(profileId, Object.keys(GAS_SCHEDULES))
  return s
}
