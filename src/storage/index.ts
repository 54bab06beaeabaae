// Public surface of src/storage. Backends are not re-exported here on purpose: import them from
// ./embedded.ts / ./kubo.ts, or use createModelStore, so that importing this index stays cheap.
export type { CachedModelFile, CachedPackage, CacheEntry, ModelCache, ModelCacheOpts } from './cache.ts'
export { createModelCache } from './cache.ts'
export type { Commitment, CommitmentProof } from './commitment.ts'
export {
  COMMITMENT_ALGORITHM,
  CommitmentBuilder,
  commitmentProof,
  computeCommitment,
  LEAF_SIZE,
  verifyCommitmentProof,
} from './commitment.ts'
export type { ModelStoreOpts } from './create.ts'
export { createModelStore } from './create.ts'
export * from './errors.ts'
export type { ManifestFile, ManifestPart, PackageFileKind, PackageManifest } from './manifest.ts'
export {
  canonicalManifestBytes,
  DEFAULT_PART_SIZE,
  MANIFEST_SCHEMA,
  normaliseDigest,
  packageDigest,
  parseManifest,
} from './manifest.ts'
export type { AddPackageOptions, PackageFileSource, PackageResult } from './package.ts'
export {
  addModelPackage,
  collectPackageFiles,
  fetchModelPackage,
  fetchPackageFile,
  readManifest,
} from './package.ts'
export { defaultDatadir, ipfsRepoDir, modelCacheDir, pinningStateFile } from './paths.ts'
export type {
  ExternalPinReport,
  PinningManager,
  PinningManagerOpts,
  PinningSummary,
  PinRecord,
  RewardSchedule,
} from './pinning.ts'
export { createPinningManager, DEFAULT_REWARD_SCHEDULE, rewardPerPeriod } from './pinning.ts'
export { CHUNK_SIZE, importerOptions, MAX_CHILDREN_PER_NODE } from './profile.ts'
export type * from './types.ts'
