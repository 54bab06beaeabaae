import type { Chain } from '../chain/chain.ts'
import { GenesisError } from '../chain/errors.ts'
import { memoisingSessions } from '../chain/estimate-memo.ts'
import type { LatticeGenesisConfig } from '../chain/genesis.ts'
import type { SessionCache } from '../inference/cache.ts'
import { createSessionCache } from '../inference/cache.ts'
import type { InferenceProfile, Provider } from '../inference/profile.ts'
import { CONSENSUS_PROFILE, consensusProfile, fastProfile, LEGACY_PROFILE_IDS } from '../inference/profile.ts'
import { checkRuntime } from '../inference/wasm-check.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import { createInferencePrecompile } from '../precompiles/inference.ts'
import { CURRENT_GAS_SCHEDULE, GAS_SCHEDULES } from '../precompiles/params.ts'
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
  /** The genesis file's `config.lattice` (inference profile and validator set). */
  lattice?: LatticeGenesisConfig
  /**
   * Run state-changing inference under this profile instead of the genesis's. Only for tests and diagnostics
   * (a node that disagrees with the chain it imports); a real node always follows its genesis.
   */
  profileOverride?: InferenceProfile
  /** Warm the consensus runtime up in the background at open (default true; an offline command that may run no inference passes false). */
  warmUp?: boolean
}

/** What a node needs to run the inference precompile: IPFS store, local model cache, sessions, precompile. */
export interface InferenceStack {
  store: ModelStore
  modelCache: ModelCache
  inference: InferencePrecompile
  /** The precompile's loaded sessions (their hit counters feed the metrics). */
  sessions: SessionCache
  /** The profile state-changing inference runs under. */
  profile: InferenceProfile
  /** Something the operator must know (an accelerated provider for state execution). */
  notice?: string
  close(): Promise<void>
}

/**
 * Build the inference side of a node for a datadir. Every node that executes blocks (devnet, validator,
 * import) uses this, so they all run the precompile the same way: the consensus profile, models resolved
 * through the registry, the local cache and IPFS.
 */
export async function openInferenceStack(opts: InferenceStackOpts): Promise<InferenceStack> {
  const state = stateProfile(opts.lattice)
  const profile = opts.profileOverride ?? state.profile
  const notice = state.notice
  // refuse to start on a runtime whose files differ from the ones the profile pins: this node would split
  checkRuntime(profile)
  const store = await createModelStore({ datadir: opts.datadir, ipfsApi: opts.ipfsApi, network: opts.network })
  const modelCache = createModelCache({ dir: modelCacheDir(opts.datadir), store, maxBytes: opts.modelCacheBytes })
  // warm-up: the runtime's first-run cost (worker start, lazy compile, tier-up) off the first transaction's path
  const sessions = createSessionCache({ profile, maxBytes: opts.sessionCacheBytes, warmUp: opts.warmUp ?? true })
  const inference = createInferencePrecompile({
    models: modelCache,
    // within one eth_estimateGas each distinct inference runs once (its gas is static)
    sessions: memoisingSessions(sessions),
    // a chain made under consensus-v1 keeps v1's gas; accelerated (single-validator) chains use the current one
    gasSchedule: GAS_SCHEDULES[profile.id] ?? CURRENT_GAS_SCHEDULE,
  })
  return { store, modelCache, inference, sessions, profile, notice, close: () => store.close() }
}

/**
 * The profile for state-changing inference, as the genesis names it (`config.lattice.inference.profile`):
 * a consensus profile by id (`consensus-v2` when absent), or `accelerated` (native CPU or an accelerator),
 * which only a single-validator chain (a devnet) may use: with several validators results must be
 * bit-identical across machines, which only a portable consensus profile gives.
 */
export function stateProfile(lattice: LatticeGenesisConfig = {}): { profile: InferenceProfile; notice?: string } {
  const inf = lattice.inference
  if (!inf) return { profile: CONSENSUS_PROFILE }
  if (inf.profile !== 'accelerated') {
    const profile = consensusProfile(inf.profile)
    if (profile.portable !== false) return { profile }
    const legacy = LEGACY_PROFILE_IDS[inf.profile] ? ` ("${inf.profile}" is its legacy name)` : ''
    return {
      profile,
      notice: `State-changing inference runs under ${profile.id}${legacy}, native ONNX Runtime: its output bits depend on the CPU (docs/determinism.md), so validators on different CPUs can disagree. New chains should name "${CONSENSUS_PROFILE.id}".`,
    }
  }
  if ((lattice.validators?.length ?? 0) > 1) {
    throw new GenesisError(
      'config.lattice.inference.profile "accelerated" needs a single validator; this genesis names several',
    )
  }
  const provider = (inf.provider ?? 'coreml') as Provider
  return {
    profile: fastProfile(provider),
    notice: `State-changing inference runs on native ${provider} (config.lattice.inference.profile = "accelerated"): faster, but results are not reproducible on other machines, so this chain is single-validator only.`,
  }
}

/**
 * An initialised datadir's chain with its inference stack, for the offline commands (import, export): opening a
 * datadir replays the blocks its write-ahead log holds after a crash, and a block with inference transactions can
 * only be re-executed with the runtime and the models (without them its receipts differ and the replay fails).
 */
export async function openDatadirWithInference(
  datadir: string,
  opts: { ipfsApi?: string; peers?: string[]; warmUp?: boolean } = {},
): Promise<{ chain: Chain; close: () => Promise<void> }> {
  const { openDatadirChain, loadDatadirSpec } = await import('../chain/datadir.ts')
  const stack = await openInferenceStack({
    datadir,
    lattice: loadDatadirSpec(datadir).lattice,
    ipfsApi: opts.ipfsApi,
    network: opts.peers?.length ? { peers: opts.peers } : undefined,
    warmUp: opts.warmUp,
  })
  let chain: Chain
  try {
    chain = await openDatadirChain(datadir, { inference: stack.inference })
  } catch (err) {
    await stack.close()
    throw err
  }
  return {
    chain,
    close: async () => {
      try {
        await chain.close()
      } finally {
        await stack.close()
      }
    },
  }
}
