import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { LatticeNode } from '../chain/node.ts'
import { RegistryIndex } from '../chain/registry-index.ts'
import { createSessionCache, type SessionCache } from '../inference/cache.ts'
import { onnxruntimeVersion, probeProviders, resolveDevice } from '../inference/onnx.ts'
import type { InferenceProfile } from '../inference/profile.ts'
import { CONSENSUS_PROFILE, fastProfile } from '../inference/profile.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import type { LatticeRpcDeps } from '../rpc/lattice.ts'
import type { ModelCache } from '../storage/cache.ts'
import { pinningStateFile } from '../storage/paths.ts'
import type { PinningManager } from '../storage/pinning.ts'
import { createPinningManager } from '../storage/pinning.ts'
import type { ModelStore } from '../storage/types.ts'

/** Options for {@link createLatticeRpcDeps}. */
export interface LatticeRpcDepsOpts {
  node: LatticeNode
  datadir: string
  store: ModelStore
  modelCache: ModelCache
  inference: InferencePrecompile
  /** The profile state-changing inference runs under. */
  stateProfile?: InferenceProfile
  clientVersion: string
  devnet: boolean
  /** The node's pinning manager when the caller shares it (the pinner does). Default: one over the datadir. */
  pinning?: PinningManager
}

/**
 * Build what the lattice_* namespace needs for a node: the registry index (opened, synced to the head and
 * listening to the chain), off-chain session caches, the pinning manager. Call before the node mines.
 */
export async function createLatticeRpcDeps(opts: LatticeRpcDepsOpts): Promise<LatticeRpcDeps> {
  const index = await RegistryIndex.open(opts.node.chain)
  opts.node.chain.listeners.push(index)
  const pinning = opts.pinning ?? createPinningManager({ store: opts.store, stateFile: pinningStateFile(opts.datadir) })
  // the chain's own profile (consensus-v2: WebAssembly workers), so lattice_infer gives the bits a block would
  const consensus = createSessionCache({ profile: opts.stateProfile ?? CONSENSUS_PROFILE, maxBytes: 256 << 20 })
  let fast: Promise<SessionCache> | undefined
  const state = opts.stateProfile ?? CONSENSUS_PROFILE
  // staged uploads live in memory: bytes a previous run left behind belong to no upload
  const uploadDir = join(opts.datadir, 'uploads')
  await rm(uploadDir, { recursive: true, force: true })
  return {
    node: opts.node,
    index,
    store: opts.store,
    models: opts.modelCache,
    inference: opts.inference,
    devnet: opts.devnet,
    stateProfile: { id: state.id, provider: state.provider },
    uploadDir,
    async runModel(model, inputs, o) {
      let cache = consensus
      if (o.fast) {
        fast ??= resolveDevice('auto').then((p) => createSessionCache({ profile: fastProfile(p), maxBytes: 256 << 20 }))
        cache = await fast
      }
      const session = await cache.get(model.digest, () => model.bytes)
      const outputs = await cache.run(model.digest, () => model.bytes, inputs, { outputDecimals: o.outputDecimals })
      return { outputs, provider: session.provider, profile: session.profile.id }
    },
    pinningSummary: () => pinning.summary(),
    async pinPackage(cid, digest) {
      await pinning.pin(cid, { expectedDigest: digest })
    },
    async nodeInfo() {
      const providers = await probeProviders()
      return {
        clientVersion: opts.clientVersion,
        providers: providers.map((p) => ({ provider: p.provider, available: p.available })),
        consensusProfile: CONSENSUS_PROFILE.id,
        stateProfile: (opts.stateProfile ?? CONSENSUS_PROFILE).id,
        onnxruntime: onnxruntimeVersion,
        ipfsBackend: opts.store.backend,
      }
    },
  }
}
