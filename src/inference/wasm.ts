// The consensus runtime: ONNX Runtime's WebAssembly build in worker threads (src/inference/worker-pool.ts).
// Its sessions look like native ones (OnnxSession); inputs and outputs cross to the worker as bytes.
import { createHash } from 'node:crypto'
import {
  InferenceRunError,
  ModelLoadError,
  RuntimeFeatureError,
  SessionDisposedError,
  WorkerPoolError,
} from './errors.ts'
import type { InferenceProfile } from './profile.ts'
import { currentRunSignal } from './run-deadline.ts'
import { finishOutputs, prepareInputs } from './session-io.ts'
import type { CreateSessionOpts, OnnxSession, OrtTensor } from './session-types.ts'
import { DEFAULT_TENSOR_LIMITS, DType, dtypeName, type Tensor } from './tensor.ts'
import { checkRuntime } from './wasm-check.ts'
import { type InlineSession, openInlineSession } from './wasm-inline.ts'
import type { WireSessionInfo, WireSessionOptions, WireTensor, WorkerInit } from './wasm-wire.ts'
import { RunAbandonedError, WorkerPool, WorkerRefusal, type WorkerSlot } from './worker-pool.ts'

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DType).map(([k, v]) => [v, k]))

const pools = new Map<string, WorkerPool>()

/**
 * The process-wide worker pool of a wasm profile (started lazily: a worker starts when a model needs one).
 * Checks the installed runtime against the profile first, so a mismatch fails here, before any work.
 */
export function wasmPool(profile: InferenceProfile): WorkerPool {
  const init = runtimeInit(profile)
  const key = `${init.wasmPath}:${init.sha256}`
  let pool = pools.get(key)
  if (!pool) {
    pool = new WorkerPool({ init })
    pools.set(key, pool)
  }
  return pool
}

/** What a runtime of a wasm profile starts from (a worker, or the calling thread for tiny runs). */
export function runtimeInit(profile: InferenceProfile): WorkerInit {
  const files = checkRuntime(profile)
  if (!files || !profile.wasm) throw new WorkerPoolError(`profile ${profile.id} is not a WebAssembly profile`)
  return {
    wasmPath: files.wasmPath,
    sha256: profile.wasm.sha256,
    version: profile.wasm.version,
    numThreads: profile.wasm.numThreads,
  }
}

/** Stop every worker of every wasm pool (tests, benchmarks; a node lets idle workers be). */
export async function closeWasmPools(): Promise<void> {
  const all = [...pools.values()]
  pools.clear()
  await Promise.all(all.map((p) => p.close()))
}

/** A wasm profile's session options as the runtime hosts take them. */
export function wireOptions(p: InferenceProfile): WireSessionOptions {
  return {
    executionMode: p.executionMode,
    graphOptimizationLevel: p.graphOptimizationLevel,
    enableCpuMemArena: p.enableCpuMemArena,
    enableMemPattern: p.enableMemPattern,
    extra: { ...p.config },
  }
}

/** A canonical tensor on the wire: its bytes copied into a buffer of their own (transferred to the worker). */
function toWire(t: Tensor): WireTensor {
  const type = TYPE_NAMES[t.dtype]
  if (!type) throw new InferenceRunError(`tensor "${t.name}" has dtype ${dtypeName(t.dtype)}`)
  return { name: t.name, type, dims: [...t.shape], data: new Uint8Array(t.data).buffer }
}

function fromWire(w: WireTensor): Tensor {
  const code = (DType as Record<string, number>)[w.type]
  if (code === undefined || !(w.data instanceof ArrayBuffer))
    throw new InferenceRunError(`output "${w.name}" has type ${w.type}, which has no tensor encoding`)
  return { name: w.name, dtype: code, shape: w.dims, data: new Uint8Array(w.data) }
}

/** Hooks into the native adapter for {@link OnnxSession.runOrt} (its tensors are onnxruntime-node's). */
export interface OrtTensorHooks {
  make(type: string, data: ArrayBufferView | string[], dims: readonly number[]): OrtTensor
}

/** Load a model in the WebAssembly runtime of `opts.profile` (a worker holds the session). */
export async function createWasmSession(
  opts: CreateSessionOpts & { profile: InferenceProfile },
  hooks: OrtTensorHooks,
): Promise<OnnxSession> {
  opts.signal?.throwIfAborted()
  const profile = opts.profile
  const limits = opts.limits ?? DEFAULT_TENSOR_LIMITS
  const pool = wasmPool(profile)
  const key = `${profile.id}:${createHash('sha256').update(opts.model).digest('hex')}`
  const model = opts.model
  const options = wireOptions(profile)
  // the runtime's refusals are consensus outcomes (typed as native ones are); a worker gone or a full queue
  // stays a WorkerPoolError: local to this node, never a revert
  const load = async (): Promise<{ slot: WorkerSlot; info: WireSessionInfo }> => {
    try {
      return await pool.load(key, model, options)
    } catch (err) {
      if (err instanceof WorkerRefusal) throw new ModelLoadError(err.why, { cause: err })
      throw err
    }
  }
  let { slot, info } = await load()
  let disposed = false
  // the model on the calling thread too, for runs whose caller says they are tiny (wasm-inline.ts): opened
  // on the first such run, which still goes to the worker; from then on they run here
  let inline: InlineSession | undefined
  let inlineOpening = false
  const inlineSession = (): InlineSession | undefined => {
    if (inline || inlineOpening) return inline
    inlineOpening = true
    void openInlineSession(runtimeInit(profile), () => pool.compiled(), model, options).then((s) => {
      if (disposed) void s?.release().catch(() => {})
      else inline = s
    })
    return undefined
  }
  const runInline = async (s: InlineSession, feeds: WireTensor[]): Promise<WireTensor[]> => {
    // as the pool refuses a run whose deadline has passed before it starts (a run here is never abandoned)
    if (currentRunSignal()?.aborted) throw new RunAbandonedError(false)
    const out = await s.run(feeds)
    if (out) return out
    // this thread's runtime was given up (a trap): the worker it is
    inline = undefined
    return runWire(feeds)
  }
  const runWire = async (feeds: WireTensor[]): Promise<WireTensor[]> => {
    if (disposed) throw new SessionDisposedError()
    // the worker holding this session stopped (crashed, or retired after a trap): load it in a live one
    if (slot.dead) ({ slot, info } = await load())
    try {
      return await pool.run(slot, key, feeds)
    } catch (err) {
      if (err instanceof WorkerRefusal) throw new InferenceRunError(err.why, { cause: err })
      throw err
    }
  }
  return {
    provider: profile.provider,
    profile,
    inputs: info.inputs,
    outputs: info.outputs,
    get disposed() {
      return disposed
    },
    async run(tensors, runOpts = {}) {
      runOpts.signal?.throwIfAborted()
      if (disposed) throw new SessionDisposedError()
      const feeds = prepareInputs(tensors, info.inputs, limits, runOpts).map(toWire)
      const here = runOpts.inline ? inlineSession() : undefined
      const out = (await (here ? runInline(here, feeds) : runWire(feeds))).map(fromWire)
      return finishOutputs(out, runOpts)
    },
    async runOrt(feeds) {
      const wire = Object.entries(feeds).map(([name, t]): WireTensor => {
        if (t.type === 'string') return { name, type: 'string', dims: [...t.dims], data: [...(t.data as string[])] }
        const d = t.data as ArrayBufferView
        const data = new Uint8Array(d.byteLength)
        data.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
        return { name, type: t.type, dims: [...t.dims], data: data.buffer }
      })
      const out = await runWire(wire)
      return Object.fromEntries(out.map((w) => [w.name, hooks.make(w.type, viewOf(w), w.dims)]))
    },
    endProfiling() {
      throw new RuntimeFeatureError('ONNX Runtime profiling', 'WebAssembly')
    },
    async dispose() {
      if (disposed) return
      disposed = true
      const here = inline
      inline = undefined
      await Promise.all([pool.release(slot, key).catch(() => {}), here?.release().catch(() => {})])
    },
  }
}

const VIEWS: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
}

function viewOf(w: WireTensor): ArrayBufferView | string[] {
  if (Array.isArray(w.data)) return w.data
  const C = VIEWS[w.type]
  if (!C) throw new InferenceRunError(`output "${w.name}" has type ${w.type}`)
  return new C(w.data)
}
