// The executor's provider runner: probes the execution provider for real, fetches a request's model package from
// IPFS the way the node does (manifest by CID, refused unless its digest is the registry's, every part checked
// against its sha256), runs it with onnxruntime-node on that provider and returns the outputs exactly as the
// precompile would encode them (fixed-point outputs when any input is fixed-point, with the largest decimals).
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../../errors.ts'
import type { Provider } from '../../inference/profile.ts'
import type { OnnxSession } from '../../inference/session-types.ts'
import { fixedDecimals, type Tensor } from '../../inference/tensor.ts'
import type { ModelStore } from '../../storage/types.ts'
import { CliFlagError } from '../errors.ts'
import { ExecutorModelError } from './errors.ts'
import { lieForTest, lieMode } from './test-lie.ts'

/** The providers an executor may name. */
export const EXECUTOR_PROVIDERS: readonly Provider[] = ['cpu', 'cuda', 'coreml', 'webgpu']

/** Options of {@link createProviderRunner}. */
export interface ProviderRunnerOpts {
  provider: string
  /** The IPFS store model packages are read from (the executor's datadir store or a Kubo daemon). */
  store: ModelStore
  /** Where fetched model files are kept between requests and restarts. */
  cacheDir: string
}

/** A model as the registry lists it: its package's manifest CID and digest. */
export interface RegistryModel {
  modelId: string
  cid: string
  digest: string
}

/** Runs requests on one execution provider. */
export interface ProviderRunner {
  readonly provider: Provider
  /** The test-only lie in force (LATTICE_TEST_EXECUTOR_LIE), if any. */
  readonly lie?: 'scale' | 'argmax'
  run(model: RegistryModel, inputs: Tensor[], opts?: { signal?: AbortSignal }): Promise<Tensor[]>
  close(): Promise<void>
}

/**
 * Probe `provider` (a one-node session run on it, as `lattice devices` does) and refuse it when it does not work
 * here, naming what is missing.
 */
export async function checkProvider(provider: string): Promise<Provider> {
  if (!(EXECUTOR_PROVIDERS as readonly string[]).includes(provider))
    throw new CliFlagError(`--provider "${provider}" is not a provider. Pass one of ${EXECUTOR_PROVIDERS.join(', ')}.`)
  const { probeProvider } = await import('../../inference/onnx.ts')
  const s = await probeProvider(provider as Provider)
  if (!s.available)
    throw new CliFlagError(
      `--provider ${provider} is not available on this machine: ${s.reason ?? 'its probe failed'}${s.bundled ? '' : ' (this onnxruntime-node build does not ship it)'}. Run \`lattice devices\` to see which providers work here, or pass --provider cpu.`,
    )
  return provider as Provider
}

/** Probe the provider and build a runner on it (sessions cached per model digest). */
export async function createProviderRunner(opts: ProviderRunnerOpts): Promise<ProviderRunner> {
  const provider = await checkProvider(opts.provider)
  const lie = lieMode()
  const { createSession, fastProfile } = await loadRuntime()
  const sessions = new Map<string, Promise<OnnxSession>>()

  async function modelBytes(m: RegistryModel, signal?: AbortSignal): Promise<Uint8Array> {
    const { readManifest, fetchPackageFile } = await import('../../storage/package.ts')
    let manifest: Awaited<ReturnType<typeof readManifest>>['manifest']
    try {
      ;({ manifest } = await readManifest(opts.store, m.cid, m.digest, { signal }))
    } catch (err) {
      throw new ExecutorModelError(
        `Cannot read the package of model ${m.modelId} (manifest ${m.cid}) from the executor's IPFS store: ${errorMessage(err)}. Add the package to the store (--datadir), or pass --ipfs-api with the IPFS daemon that holds it.`,
        { cause: err },
      )
    }
    const file = manifest.files.find((f) => f.name === manifest.model)
    if (!file) throw new ExecutorModelError(`The package of ${m.modelId} names ${manifest.model}, which it lacks.`)
    const dir = join(opts.cacheDir, m.digest.replace(/^0x/, ''))
    const path = join(dir, file.name)
    const have = await stat(path).catch(() => undefined)
    if (have?.size !== file.size) {
      await mkdir(dir, { recursive: true })
      // written as temp + rename after every part's sha256 checked: a cached file is a verified one
      await fetchPackageFile(opts.store, file, path, { signal })
    }
    return readFile(path)
  }

  function session(m: RegistryModel, signal?: AbortSignal): Promise<OnnxSession> {
    let s = sessions.get(m.digest)
    if (!s) {
      s = modelBytes(m, signal).then((model) => createSession({ model, profile: fastProfile(provider), signal }))
      s.catch(() => sessions.delete(m.digest))
      sessions.set(m.digest, s)
    }
    return s
  }

  return {
    provider,
    lie,
    async run(m, inputs, runOpts = {}) {
      const s = await session(m, runOpts.signal)
      const outputs = await s.run(inputs, { outputDecimals: outputDecimals(inputs), signal: runOpts.signal })
      return lie ? lieForTest(lie, outputs) : outputs
    },
    async close() {
      for (const s of sessions.values()) await (await s.catch(() => undefined))?.dispose()
      sessions.clear()
    },
  }
}

/** The precompile's rule: float outputs become fixed-point with the largest decimals of any fixed-point input. */
export function outputDecimals(inputs: readonly Tensor[]): number | undefined {
  let d: number | undefined
  for (const t of inputs) {
    const x = fixedDecimals(t.dtype)
    if (x !== undefined) d = d === undefined ? x : Math.max(d, x)
  }
  return d
}

async function loadRuntime() {
  const { createSession } = await import('../../inference/onnx.ts')
  const { fastProfile } = await import('../../inference/profile.ts')
  return { createSession, fastProfile }
}
