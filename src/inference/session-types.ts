// The session API's types, apart from onnx.ts so that the runtimes behind it (wasm.ts, session-io.ts) can name
// them without importing onnx.ts, which imports them: no import cycle. Type-only: nothing here loads a runtime.
import type * as ort from 'onnxruntime-node'
import type { DeviceRequest, InferenceProfile, Provider } from './profile.ts'
import type { Tensor, TensorLimits } from './tensor.ts'
import type { ValueInfo } from './validate.ts'

/** ONNX Runtime's tensor type, for callers that need the raw path (benchmarks, conformance). */
export type OrtTensor = ort.Tensor

/** Options of {@link createSession}. */
export interface CreateSessionOpts {
  /** ONNX model bytes. */
  model: Uint8Array
  /** Session options (and runtime: native or WebAssembly); defaults to {@link CONSENSUS_PROFILE}. A `device` needs `profile` unset. */
  profile?: InferenceProfile
  /** Provider for a non-consensus session; `auto` picks the best available. Ignored when `profile` is given. */
  device?: DeviceRequest
  /** For accelerated providers: fail when any node would fall back to the CPU provider (default false). */
  strict?: boolean
  /** Tensor limits for {@link OnnxSession.run}; defaults to {@link DEFAULT_TENSOR_LIMITS}. */
  limits?: TensorLimits
  /** Write an ONNX Runtime profile (chrome trace JSON) with this file prefix; see {@link OnnxSession.endProfiling}. */
  profileFilePrefix?: string
  signal?: AbortSignal
}

/** Options of one run. */
export interface RunOpts {
  /** Return float outputs as fixed-point with this many decimals (round half to even). */
  outputDecimals?: number
  /** Skip input validation (the caller already ran {@link validateInputs} on these tensors). */
  validated?: boolean
  /**
   * The caller's static cost says this run is tiny (well under a millisecond): a WebAssembly session may run it
   * on the calling thread, with the same bytes out, instead of a worker round trip that costs more than the
   * run. Such a run blocks the thread and is not abandoned at an RPC deadline, so only tiny runs may ask.
   */
  inline?: boolean
  signal?: AbortSignal
}

/** A loaded model on one execution provider. */
export interface OnnxSession {
  readonly provider: Provider
  readonly profile: InferenceProfile
  readonly inputs: readonly ValueInfo[]
  readonly outputs: readonly ValueInfo[]
  /** Validate, convert and run; outputs in the model's output order. */
  run(inputs: readonly Tensor[], opts?: RunOpts): Promise<Tensor[]>
  /** Run with ONNX Runtime tensors directly (no validation, no codec). */
  runOrt(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>
  /** Stop profiling and return the profile file path (only with `profileFilePrefix`). */
  endProfiling(): string
  dispose(): Promise<void>
  readonly disposed: boolean
}
