// The one file that imports onnxruntime-node (the native runtime). Everything else sees Tensor, ValueInfo and
// OnnxSession; a WebAssembly profile's sessions come from src/inference/wasm.ts through the same createSession.
import { createRequire } from 'node:module'
import { endianness } from 'node:os'
import type * as ort from 'onnxruntime-node'
import { probeModel } from './builder.ts'
import {
  InferenceRunError,
  ModelLoadError,
  ProviderUnavailableError,
  SessionDisposedError,
  UnknownProviderError,
  UnsupportedDtypeError,
} from './errors.ts'
import { assertSelfContained } from './external-data.ts'
import {
  CONSENSUS_PROFILE,
  type DeviceRequest,
  fastProfile,
  type InferenceProfile,
  ONNXRUNTIME_VERSION,
  PROVIDERS,
  type Provider,
} from './profile.ts'
import { finishOutputs, prepareInputs } from './session-io.ts'
import type { CreateSessionOpts, OnnxSession, OrtTensor } from './session-types.ts'
import { DEFAULT_TENSOR_LIMITS, DType, dtypeName, type Tensor, type TensorLimits } from './tensor.ts'
import type { ValueInfo } from './validate.ts'
import { createWasmSession } from './wasm.ts'

export type { CreateSessionOpts, OnnxSession, OrtTensor, RunOpts } from './session-types.ts'

const nodeRequire = createRequire(import.meta.url)

/** The installed onnxruntime-node version (its package.json: read without loading the native library). */
export const onnxruntimeVersion: string = nodeRequire('onnxruntime-node/package.json').version ?? 'unknown'

let loaded: typeof ort | undefined

/**
 * onnxruntime-node, loaded on first use: a node on the WebAssembly consensus profile never loads the native
 * library (its arm64 build does not even load under qemu-user, and a validator has no use for it).
 */
function native(): typeof ort {
  if (!loaded) {
    loaded = nodeRequire('onnxruntime-node') as typeof ort
    // ONNX Runtime's process-wide logger: failures reach callers as exceptions (probing prints nothing)
    loaded.env.logLevel = 'fatal'
  }
  return loaded
}

if (endianness() !== 'LE') {
  // The canonical encoding is little-endian and tensors are passed to ONNX Runtime as views of it.
  throw new UnsupportedDtypeError('big-endian host')
}

/** ONNX Runtime session options for a profile. */
export function sessionOptions(
  profile: InferenceProfile,
  opts: { strict?: boolean; profileFilePrefix?: string } = {},
): ort.InferenceSession.SessionOptions {
  const extra: Record<string, string> = { ...profile.config }
  if (opts.strict && profile.provider !== 'cpu') extra['session.disable_cpu_ep_fallback'] = '1'
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: [providerConfig(profile.provider)],
    executionMode: profile.executionMode,
    graphOptimizationLevel: profile.graphOptimizationLevel,
    enableCpuMemArena: profile.enableCpuMemArena,
    enableMemPattern: profile.enableMemPattern,
    // errors reach the caller as exceptions; keep ONNX Runtime's own logger quiet
    logSeverityLevel: 4,
    extra,
  }
  if (profile.intraOpNumThreads > 0) o.intraOpNumThreads = profile.intraOpNumThreads
  if (profile.interOpNumThreads > 0) o.interOpNumThreads = profile.interOpNumThreads
  if (opts.profileFilePrefix) {
    o.enableProfiling = true
    o.profileFilePrefix = opts.profileFilePrefix
  }
  return o
}

// onnxruntime-node reads only `coreMlFlags` for CoreML: COREML_FLAG_CREATE_MLPROGRAM (0x010) selects the MLProgram
// format; leaving out the CPU-only / CPU+GPU / ANE-only flags means all compute units (CPU, GPU, Neural Engine).
const COREML_MLPROGRAM = 0x010

function providerConfig(p: Provider): ort.InferenceSession.ExecutionProviderConfig {
  switch (p) {
    case 'cpu':
      // the binding ignores CPU EP options; the arena is set by enableCpuMemArena
      return { name: 'cpu' }
    case 'coreml':
      return { name: 'coreml', coreMlFlags: COREML_MLPROGRAM }
    case 'webgpu':
      return { name: 'webgpu' }
    case 'cuda':
      return { name: 'cuda', deviceId: 0 }
  }
}

function checkProvider(p: string): asserts p is Provider {
  if (!(PROVIDERS as readonly string[]).includes(p)) throw new UnknownProviderError(p, [...PROVIDERS, 'auto'])
}

/** One line of {@link probeProviders}. */
export interface ProviderStatus {
  provider: Provider
  available: boolean
  /** ONNX Runtime's `listSupportedBackends()` says the binary ships it (a hint, not a promise). */
  bundled: boolean
  /** Why it is unavailable. */
  reason?: string
}

const probeCache = new Map<Provider, Promise<ProviderStatus>>()

/** Whether a provider works here: creates and runs a one-node session on it. Cached per process. */
export function probeProvider(provider: Provider): Promise<ProviderStatus> {
  checkProvider(provider)
  let p = probeCache.get(provider)
  if (!p) {
    p = (async () => {
      const listed = native()
        .listSupportedBackends()
        .find((b) => b.name === provider)
      const bundled = Boolean(listed?.bundled)
      try {
        const s = await native().InferenceSession.create(probeModel(), {
          executionProviders: [providerConfig(provider)],
          logSeverityLevel: 4,
        })
        const out = await s.run({ x: new (native().Tensor)('float32', new Float32Array([1.5]), [1]) })
        await s.release()
        const y = out.y?.data as Float32Array | undefined
        if (y?.[0] !== 3) return { provider, available: false, bundled, reason: 'probe model gave a wrong result' }
        return { provider, available: true, bundled }
      } catch (err) {
        return { provider, available: false, bundled, reason: shortReason(err) }
      }
    })()
    probeCache.set(provider, p)
  }
  return p
}

/** Probe every provider (see {@link probeProvider}). */
export function probeProviders(): Promise<ProviderStatus[]> {
  return Promise.all(PROVIDERS.map((p) => probeProvider(p)))
}

function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  if (/backend not found/.test(msg)) return 'not in this onnxruntime-node build'
  if (/Failed to load (shared )?library/i.test(msg)) return 'its shared libraries are not installed'
  if (/adapter/i.test(msg)) return 'no GPU adapter found'
  const line = msg.split('\n')[0]
  return line.length > 160 ? `${line.slice(0, 160)}...` : line
}

/** Resolve a device request to a working provider; `auto` picks the first available of {@link PROVIDERS}. */
export async function resolveDevice(req: DeviceRequest): Promise<Provider> {
  if (req === 'auto') {
    for (const p of PROVIDERS) if ((await probeProvider(p)).available) return p
    throw new ProviderUnavailableError('auto', 'no provider works, not even cpu')
  }
  checkProvider(req)
  const s = await probeProvider(req)
  if (!s.available) throw new ProviderUnavailableError(req, s.reason ?? 'probe failed')
  return req
}

const ORT_TYPES: Record<number, ort.Tensor.Type> = {
  [DType.float32]: 'float32',
  [DType.float16]: 'float16',
  [DType.uint8]: 'uint8',
  [DType.int8]: 'int8',
  [DType.int16]: 'int16',
  [DType.int32]: 'int32',
  [DType.int64]: 'int64',
  [DType.bool]: 'bool',
}

type Ctor = { new (b: ArrayBuffer, off: number, len: number): ArrayBufferView; BYTES_PER_ELEMENT: number }
const VIEWS: Record<string, Ctor> = {
  float32: Float32Array,
  float16: Uint16Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
} as unknown as Record<string, Ctor>

/** Canonical tensor to an ONNX Runtime tensor (a view when aligned, else a copy). Fixed-point is not accepted here. */
export function toOrtTensor(t: Tensor): OrtTensor {
  const type = ORT_TYPES[t.dtype]
  if (!type) throw new UnsupportedDtypeError(dtypeName(t.dtype), t.name)
  const C = VIEWS[type]
  let data = t.data
  if (data.byteOffset % C.BYTES_PER_ELEMENT !== 0) data = new Uint8Array(data) // copy (Buffer.slice would not)
  const view = new C(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength / C.BYTES_PER_ELEMENT)
  return new (native().Tensor)(type, view as ort.Tensor.DataType, t.shape)
}

/** ONNX Runtime tensor to canonical form (shares the output buffer). */
export function fromOrtTensor(name: string, v: ort.OnnxValue): Tensor {
  const t = v as ort.Tensor
  const code = (DType as Record<string, number>)[t.type]
  if (code === undefined || t.location !== 'cpu') throw new UnsupportedDtypeError(t.type, name)
  const d = t.data as ArrayBufferView
  return { name, dtype: code, shape: [...t.dims], data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) }
}

function metadata(m: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return m.map((v) =>
    v.isTensor
      ? { name: v.name, dtype: v.type, shape: [...v.shape] }
      : { name: v.name, dtype: 'non-tensor', shape: [] },
  )
}

/** Load a model. Default: the consensus profile. With `device` (and no profile): a fast off-chain profile. */
export async function createSession(opts: CreateSessionOpts): Promise<OnnxSession> {
  opts.signal?.throwIfAborted()
  let profile = opts.profile
  if (!profile) {
    profile = opts.device ? fastProfile(await resolveDevice(opts.device)) : CONSENSUS_PROFILE
  } else if (profile.provider !== 'cpu') {
    await resolveDevice(profile.provider)
  }
  // a model with EXTERNAL tensors would make ONNX Runtime open files on this machine's disk (either runtime)
  assertSelfContained(opts.model)
  if (profile.runtime === 'wasm') return createWasmSession({ ...opts, profile }, { make: ortTensor })
  if (profile.onnxruntimeVersion !== onnxruntimeVersion) {
    throw new ModelLoadError(
      `profile ${profile.id} needs onnxruntime-node ${profile.onnxruntimeVersion} but ${onnxruntimeVersion} is installed`,
    )
  }
  let raw: ort.InferenceSession
  try {
    raw = await native().InferenceSession.create(opts.model, sessionOptions(profile, opts))
  } catch (err) {
    throw new ModelLoadError(shortReason(err), { cause: err })
  }
  return wrapSession(raw, profile, opts.limits ?? DEFAULT_TENSOR_LIMITS)
}

/**
 * Load a model under the consensus profile: WebAssembly in a worker thread (consensus-v2), the bits every
 * validator computes. `lattice model deploy` uses this to refuse a model the consensus runtime cannot run.
 */
export function createConsensusSession(opts: {
  model: Uint8Array
  profile?: InferenceProfile
  limits?: TensorLimits
  signal?: AbortSignal
}): Promise<OnnxSession> {
  return createSession({
    model: opts.model,
    profile: opts.profile ?? CONSENSUS_PROFILE,
    limits: opts.limits,
    signal: opts.signal,
  })
}

function wrapSession(raw: ort.InferenceSession, profile: InferenceProfile, limits: TensorLimits): OnnxSession {
  const inputs = metadata(raw.inputMetadata)
  const outputs = metadata(raw.outputMetadata)
  const outputNames = raw.outputNames
  let disposed = false
  return {
    provider: profile.provider,
    profile,
    inputs,
    outputs,
    get disposed() {
      return disposed
    },
    async run(tensors, runOpts = {}) {
      if (disposed) throw new SessionDisposedError()
      runOpts.signal?.throwIfAborted()
      const feeds: Record<string, ort.Tensor> = {}
      for (const t of prepareInputs(tensors, inputs, limits, runOpts)) feeds[t.name] = toOrtTensor(t)
      let res: ort.InferenceSession.ReturnType
      try {
        res = await raw.run(feeds)
      } catch (err) {
        throw new InferenceRunError(shortReason(err), { cause: err })
      }
      return finishOutputs(
        outputNames.map((name) => fromOrtTensor(name, res[name])),
        runOpts,
      )
    },
    async runOrt(feeds) {
      if (disposed) throw new SessionDisposedError()
      try {
        return (await raw.run(feeds)) as Record<string, OrtTensor>
      } catch (err) {
        throw new InferenceRunError(shortReason(err), { cause: err })
      }
    },
    endProfiling() {
      return (raw as unknown as { endProfiling(): string }).endProfiling() ?? ''
    },
    async dispose() {
      if (disposed) return
      disposed = true
      await raw.release()
    },
  }
}

/** A bare ONNX Runtime session (no codec, no validation): the baseline in bench/inference.ts. */
export interface BareOrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>
  release(): Promise<void>
}

/** Create a bare `ort.InferenceSession` with exactly the session options of `profile`. */
export async function createBareOrtSession(
  model: Uint8Array,
  profile: InferenceProfile = CONSENSUS_PROFILE,
): Promise<BareOrtSession> {
  return (await native().InferenceSession.create(model, sessionOptions(profile))) as unknown as BareOrtSession
}

/** Build an ONNX Runtime tensor from a type name, a typed array and dims (conformance and benchmarks). */
export function ortTensor(type: string, data: ArrayBufferView | string[], dims: readonly number[]): OrtTensor {
  return new (native().Tensor)(type as ort.Tensor.Type, data as ort.Tensor.DataType, dims)
}

/** Sanity: the loaded runtime is the version the profiles pin. */
export function checkRuntimeVersion(): boolean {
  return onnxruntimeVersion === ONNXRUNTIME_VERSION
}
