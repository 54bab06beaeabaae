import { createSessionCache } from '../inference/cache.ts'
import { CONSENSUS_PROFILE } from '../inference/profile.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import { createInferencePrecompile } from '../precompiles/inference.ts'
import type { ModelCache } from '../storage/cache.ts'
import { createModelCache } from '../storage/cache.ts'
import { createModelStore } from '../storage/create.ts'
import type { NetworkOpts } from '../storage/network.ts'
import { modelCacheDir } from '../storage/paths.ts'
import type { ModelStore } from '../storage/types.ts'

/** Options for {@link openInferenceStack}. */
export interface InferenceStackOpts {
  datadir: string
  /** Kubo RPC API URL instead of the embedded store. */
  ipfsApi?: string
  /** libp2p networking for the embedded store (off unless peers or listen addresses are given). */
  network?: NetworkOpts
  /** Local model cache budget in bytes (default 16 GiB). */
  modelCacheBytes?: number
  /** Loaded-session budget in bytes (default 512 MiB). */
  sessionCacheBytes?: number
}

/** What a node needs to run the inference precompile: IPFS store, local model cache, sessions, precompile. */
export interface InferenceStack {
  store: ModelStore
  modelCache: ModelCache
  inference: InferencePrecompile
  close(): Promise<void>
}

/**
 * Build the inference side of a node for a datadir. Every node that executes blocks (devnet, validator,
 * import) uses this, so they all run the precompile the same way: the consensus profile, models resolved
 * through the registry, the local cache and IPFS.
 */
export async function openInferenceStack(opts: InferenceStackOpts): Promise<InferenceStack> {
  const store = await createModelStore({ datadir: opts.datadir, ipfsApi: opts.ipfsApi, network: opts.network })
  const modelCache = createModelCache({ dir: modelCacheDir(opts.datadir), store, maxBytes: opts.modelCacheBytes })
  const inference = createInferencePrecompile({
    models: modelCache,
    sessions: createSessionCache({ profile: CONSENSUS_PROFILE, maxBytes: opts.sessionCacheBytes }),
  })
  return { store, modelCache, inference, close: () => store.close() }
}
