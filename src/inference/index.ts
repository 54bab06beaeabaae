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
  countFlops,
  createFlopCounter,
  type FlopCounter,
  type FlopReport,
  findNondeterministicOps,
  type InputShape,
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
  CONSENSUS_PROFILES,
  consensusProfile,
  type DeviceRequest,
  type InferenceProfile,
  ONNXRUNTIME_VERSION,
  PROVIDERS,
  type Provider,
} from './profile.ts'
export * from './tensor.ts'
export { type ValueInfo, validateInputs } from './validate.ts'
