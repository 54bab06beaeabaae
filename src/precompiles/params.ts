/**
 * Gas of the inference precompile (docs/gas.md). The prices live in one versioned structure keyed by consensus
 * profile (GAS_SCHEDULES in src/inference/flops/schedule.ts, as ethereumjs keys gas by EIP); this file names the
 * current one's call-level constants. Nothing here depends on cache state: a model loaded cold costs the same
 * gas as a warm one.
 */
import { CURRENT_GAS_SCHEDULE, type GasSchedule } from '../inference/flops/schedule.ts'

export { CURRENT_GAS_SCHEDULE, GAS_SCHEDULES, type GasSchedule, gasSchedule } from '../inference/flops/schedule.ts'

/** The current schedule's call-level prices. */
export const INFERENCE_GAS = {
  /** Charged on every call before anything is decoded. */
  base: CURRENT_GAS_SCHEDULE.base,
  /** Per started 32-byte word of input tensor data (decoding and copying; calldata is paid for separately). */
  perInputWord: CURRENT_GAS_SCHEDULE.perInputWord,
  /** Per started 32-byte word of output tensor data (sizes known from static shape inference). */
  perOutputWord: CURRENT_GAS_SCHEDULE.perOutputWord,
  /** Charged per item of an inferBatch on top of one base. */
  perBatchItem: CURRENT_GAS_SCHEDULE.perBatchItem,
  /** What `estimate` costs, plus the model's counting gas (FlopCounter.countGas). */
  estimate: CURRENT_GAS_SCHEDULE.estimate,
} as const

/**
 * Gas of a `withinTolerance` call: the base, the started 32-byte words of both sets' tensor data (decoded and
 * copied, as `infer` charges its inputs), and a price per element compared (0 elements when the two sets'
 * structure differs). Undefined when the schedule has no price for the method (consensus-v1).
 */
export function toleranceGas(
  elements: number,
  dataBytes: number,
  schedule: GasSchedule = CURRENT_GAS_SCHEDULE,
): bigint | undefined {
  if (schedule.perToleranceElement === undefined) return undefined
  return (
    schedule.base +
    BigInt(Math.ceil(dataBytes / 32)) * schedule.perInputWord +
    BigInt(elements) * schedule.perToleranceElement
  )
}

/** Hard limits on one call (also bounded by the EIP-7825 transaction gas cap). */
export const INFERENCE_LIMITS = {
  /** Largest calldata accepted, bytes. */
  maxCalldataBytes: 4 * 1024 * 1024,
  /** Most items in one inferBatch. */
  maxBatch: 256,
  /**
   * Largest total size of one call's outputs, bytes (fixed-point outputs count 32 bytes an element). Output
   * shapes are known before anything runs, so a call over it is refused before any allocation.
   */
  maxOutputBytes: 32 * 1024 * 1024,
} as const

/**
 * A run priced at most this much gas may run on the calling thread instead of a worker (RunOpts.inline;
 * src/inference/wasm-inline.ts). Not a consensus constant: outputs are byte-identical either way. Off (0) for
 * now: measured with iris (32k gas) it saved 1.2-1.6 ms of process CPU per eth_call, but per automined
 * transaction the steady state was the same within noise (26.6 vs 26.0, 25.2 vs 29.1 ms CPU) and the first
 * ~80 inline runs of a process cost ~2 s of CPU more (first half 53-58 vs 30-35 ms per transaction), which a
 * devnet test suite, starting many short-lived nodes, would pay every time. 100_000n turns it on.
 * That start-up cost is V8 tiering up one function of the onnxruntime-web module (#11238, an 886 KB body) with
 * TurboFan on a background thread once the runtime also runs on the calling thread; in workers alone it stays on
 * Liftoff (docs/benchmarks.md, "Iris transaction: where the inference-specific time is"). What inline would save
 * is the thread hand-off: ~2.3 ms of wall per iris transaction at load 6, 0.2 ms of CPU.
 */
export const INLINE_RUN_MAX_GAS = 0n

/**
 * Gas for a call: `graphGas` is the execution gas of its run(s) from the FLOP counter (FlopReport.gas: weighted
 * FLOPs, bytes moved and per-node cost), plus the base, the batch items and the input and output words.
 */
export function inferenceGas(
  graphGas: bigint,
  inBytes: number,
  outBytes: number,
  items = 1,
  schedule: GasSchedule = CURRENT_GAS_SCHEDULE,
): bigint {
  return (
    schedule.base +
    (items > 1 ? BigInt(items) * schedule.perBatchItem : 0n) +
    graphGas +
    BigInt(Math.ceil(inBytes / 32)) * schedule.perInputWord +
    BigInt(Math.ceil(outBytes / 32)) * schedule.perOutputWord
  )
}
