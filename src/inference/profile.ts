import { UnknownProfileError } from './errors.ts'

/** Execution providers Lattice can ask ONNX Runtime for. */
export type Provider = 'cpu' | 'coreml' | 'webgpu' | 'cuda'
/** A provider, or `auto` for the best one this machine has (never on the consensus path). */
export type DeviceRequest = Provider | 'auto'

/** Every provider, in `auto`'s order of preference (best first). */
export const PROVIDERS: readonly Provider[] = ['cuda', 'coreml', 'webgpu', 'cpu']

/** The ONNX Runtime version the consensus profile is defined against (package.json pins it exactly). */
export const ONNXRUNTIME_VERSION = '1.30.0'

/**
 * A named, versioned set of session options. Everything that can change output bits is explicit here;
 * docs/determinism.md explains each field.
 */
export interface InferenceProfile {
  /** `name-vN`, e.g. `consensus-v1`; what the genesis file names. */
  readonly id: string
  readonly provider: Provider
  readonly intraOpNumThreads: number
  readonly interOpNumThreads: number
  readonly executionMode: 'sequential' | 'parallel'
  readonly graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all'
  readonly enableCpuMemArena: boolean
  readonly enableMemPattern: boolean
  /** ONNX Runtime session config entries (`session.*`, `mlas.*`), passed as `extra`. */
  readonly config: Readonly<Record<string, string>>
  /** onnxruntime-node version this profile was specified for; sessions refuse to run on another. */
  readonly onnxruntimeVersion: string
}

/**
 * The consensus profile, version 1: every state-changing inference runs with exactly these options.
 * Changing any field is a hard fork: add `consensus-v2` instead of editing this one.
 */
export const CONSENSUS_PROFILE_V1: InferenceProfile = Object.freeze({
  id: 'consensus-v1',
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

/** The profile the precompile uses today. */
export const CONSENSUS_PROFILE: InferenceProfile = CONSENSUS_PROFILE_V1

/** Consensus profiles by id, for the genesis file to name. */
export const CONSENSUS_PROFILES: Readonly<Record<string, InferenceProfile>> = Object.freeze({
  [CONSENSUS_PROFILE_V1.id]: CONSENSUS_PROFILE_V1,
})

/** The consensus profile a genesis file names, e.g. `consensus-v1`. */
export function consensusProfile(id: string): InferenceProfile {
  const p = CONSENSUS_PROFILES[id]
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
