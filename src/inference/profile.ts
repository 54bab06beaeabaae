import { UnknownProfileError } from './errors.ts'

/** Execution providers Lattice can ask ONNX Runtime for. */
export type Provider = 'cpu' | 'coreml' | 'webgpu' | 'cuda'
/** A provider, or `auto` for the best one this machine has (never on the consensus path). */
export type DeviceRequest = Provider | 'auto'

/** Every provider, in `auto`'s order of preference (best first). */
export const PROVIDERS: readonly Provider[] = ['cuda', 'coreml', 'webgpu', 'cpu']

/** The ONNX Runtime version the consensus profile is defined against (package.json pins it exactly). */
export const ONNXRUNTIME_VERSION = '1.30.0'

/** Which ONNX Runtime build runs a profile: the native library (onnxruntime-node) or WebAssembly (onnxruntime-web). */
export type RuntimeKind = 'native' | 'wasm'

/**
 * The exact WebAssembly runtime a `wasm` profile runs: checked at start-up against the files actually loaded
 * (src/inference/wasm-check.ts), so a node whose install differs refuses to start rather than split the chain.
 */
export interface WasmRuntimePin {
  /** npm package and exact version. */
  readonly package: 'onnxruntime-web'
  readonly version: string
  /** The `.wasm` module inside the package (`dist/<file>`); its bytes are what the worker instantiates. */
  readonly file: string
  /** sha256 (hex) of that `.wasm` file. */
  readonly sha256: string
  /** The Emscripten glue module that instantiates it (`dist/<glue>`), and its sha256. */
  readonly glue: string
  readonly glueSha256: string
  /** WebAssembly threads: 1 (more threads split reductions by thread count). */
  readonly numThreads: 1
}

/**
 * A named, versioned set of session options. Everything that can change output bits is explicit here;
 * docs/determinism.md explains each field.
 */
export interface InferenceProfile {
  /** `name-vN`, e.g. `consensus-v2`; what the genesis file names. */
  readonly id: string
  /** Native onnxruntime-node (default when absent) or the WebAssembly build in worker threads. */
  readonly runtime?: RuntimeKind
  /** For `wasm` profiles: the exact runtime files. */
  readonly wasm?: WasmRuntimePin
  /** False for profiles whose output bits depend on the CPU (native ones): a multi-validator chain refuses them. */
  readonly portable?: boolean
  readonly provider: Provider
  readonly intraOpNumThreads: number
  readonly interOpNumThreads: number
  readonly executionMode: 'sequential' | 'parallel'
  readonly graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all'
  readonly enableCpuMemArena: boolean
  readonly enableMemPattern: boolean
  /** ONNX Runtime session config entries (`session.*`, `mlas.*`), passed as `extra`. */
  readonly config: Readonly<Record<string, string>>
  /** ONNX Runtime version (onnxruntime-node, or onnxruntime-web for `wasm`) this profile was specified for; sessions refuse to run on another. */
  readonly onnxruntimeVersion: string
}

/**
 * The consensus profile, version 1: native onnxruntime-node with pinned options. Its bits depend on the CPU
 * (MLAS picks kernels by CPU features; docs/determinism.md), so it is kept only for chains made with it and for
 * the cross-CPU test's documented expected failure. Never edit it: that would be a hard fork.
 */
export const CONSENSUS_PROFILE_V1: InferenceProfile = Object.freeze({
  id: 'consensus-v1',
  runtime: 'native',
  portable: false,
  provider: 'cpu',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'disabled',
  enableCpuMemArena: false,
  enableMemPattern: false,
  config: Object.freeze({
    'session.disable_prepacking': '1',
    'session.use_deterministic_compute': '1',
    'session.set_denormal_as_zero': '0',
    'session.intra_op.allow_spinning': '0',
    'session.inter_op.allow_spinning': '0',
    'session.allow_released_opsets_only': '1',
    'optimization.enable_gelu_approximation': '0',
    'optimization.enable_cast_chain_elimination': '0',
    'mlas.disable_kleidiai': '1',
  }),
  onnxruntimeVersion: ONNXRUNTIME_VERSION,
})

/**
 * The consensus profile, version 2: ONNX Runtime's WebAssembly build (onnxruntime-web, SIMD, one thread) in
 * worker threads. WebAssembly arithmetic is specified bit-exactly except NaN payloads, which the runtime
 * canonicalises in outputs; the same `.wasm` bytes therefore give the same bits on every CPU
 * (test/cross-cpu). Graph optimisations stay off as in v1: the graph runs exactly as registered.
 */
export const CONSENSUS_PROFILE_V2: InferenceProfile = Object.freeze({
  id: 'consensus-v2',
  runtime: 'wasm',
  portable: true,
  wasm: Object.freeze({
    package: 'onnxruntime-web',
    version: '1.30.0',
    file: 'ort-wasm-simd-threaded.wasm',
    sha256: '3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2',
    glue: 'ort-wasm-simd-threaded.mjs',
    glueSha256: 'e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b',
    numThreads: 1,
  }),
  provider: 'cpu',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'disabled',
  enableCpuMemArena: false,
  enableMemPattern: false,
  config: Object.freeze({
    'session.use_deterministic_compute': '1',
    'session.set_denormal_as_zero': '0',
    'session.allow_released_opsets_only': '1',
    'optimization.enable_gelu_approximation': '0',
  }),
  onnxruntimeVersion: ONNXRUNTIME_VERSION,
})

/** The profile state-changing inference uses unless the genesis names another. */
export const CONSENSUS_PROFILE: InferenceProfile = CONSENSUS_PROFILE_V2

/** Consensus profiles by id, for the genesis file to name. */
export const CONSENSUS_PROFILES: Readonly<Record<string, InferenceProfile>> = Object.freeze({
  [CONSENSUS_PROFILE_V1.id]: CONSENSUS_PROFILE_V1,
  [CONSENSUS_PROFILE_V2.id]: CONSENSUS_PROFILE_V2,
})

/**
 * Genesis values from before profiles were versioned: `"consensus"` meant the native profile v1, so chains
 * made with it replay under the same bits.
 */
export const LEGACY_PROFILE_IDS: Readonly<Record<string, string>> = Object.freeze({ consensus: 'consensus-v1' })

/** The consensus profile a genesis file names, e.g. `consensus-v2` (or the legacy `consensus`). */
export function consensusProfile(id: string): InferenceProfile {
  const p = CONSENSUS_PROFILES[LEGACY_PROFILE_IDS[id] ?? id]
  if (!p) throw new UnknownProfileError(id, Object.keys(CONSENSUS_PROFILES))
  return p
}

/**
 * A fast profile for off-chain calls (`eth_call`, `lattice infer`): all graph optimisations, default threads.
 * Not for consensus.
 */
export function fastProfile(provider: Provider): InferenceProfile {
  return Object.freeze({
    id: `fast-${provider}`,
    runtime: 'native',
    portable: false,
    provider,
    intraOpNumThreads: 0,
    interOpNumThreads: 0,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableMemPattern: true,
    config: Object.freeze({}),
    onnxruntimeVersion: ONNXRUNTIME_VERSION,
  })
}
