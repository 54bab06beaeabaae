// The inference runtime's public surface: what the precompile, RPC and CLI import.
export {
  createSessionCache,
  type ModelLoader,
  modelDigest,
  type SessionCache,
  type SessionCacheOpts,
  type SessionCacheStats,
} from './cache.ts'
export * from './errors.ts'
export {
  type CountFlopsOpts,
  CURRENT_GAS_SCHEDULE,
  checkModelBounds,
  countFlops,
  createFlopCounter,
  type FlopCounter,
  type FlopReport,
  findNondeterministicOps,
  GAS_SCHEDULES,
  type GasSchedule,
  type InputShape,
  MemoryBoundError,
  type ModelBounds,
  NONDETERMINISTIC_OPS,
  parseShapeArg,
} from './flops.ts'
export { formatTensorJson, parseTensorJson } from './json.ts'
export {
  type CreateSessionOpts,
  createConsensusSession,
  createSession,
  type OnnxSession,
  onnxruntimeVersion,
  type ProviderStatus,
  probeProvider,
  probeProviders,
  type RunOpts,
  resolveDevice,
} from './onnx.ts'
export {
  CONSENSUS_PROFILE,
  CONSENSUS_PROFILE_V1,
  CONSENSUS_PROFILE_V2,
  CONSENSUS_PROFILES,
  consensusProfile,
  type DeviceRequest,
  type InferenceProfile,
  LEGACY_PROFILE_IDS,
  ONNXRUNTIME_VERSION,
  PROVIDERS,
  type Provider,
  type RuntimeKind,
  type WasmRuntimePin,
} from './profile.ts'
export * from './tensor.ts'
export { type ValueInfo, validateInputs } from './validate.ts'
export { closeWasmPools, wasmPool } from './wasm.ts'
export { checkRuntime, type WasmRuntimeFiles } from './wasm-check.ts'
