// An inference worker thread: onnxruntime-web (WebAssembly, one thread) with sessions cached by key
// (profile id + model digest). It instantiates the module the pool compiled from exactly the `.wasm` bytes
// whose sha256 the profile pins, so the bytes checked are the bytes run. Runs here, not on the node's JS
// thread, so a long inference never stalls RPC or block building. See src/inference/worker-pool.ts for the
// other side.
import { parentPort, workerData } from 'node:worker_threads'
import * as ort from 'onnxruntime-web'
import { graphIO } from './graph-io.ts'
import type { ValueInfo } from './validate.ts'
import {
  canonicaliseNaNs,
  transferables,
  type WireTensor,
  type WorkerInit,
  type WorkerRequest,
  type WorkerResponse,
} from './wasm-wire.ts'

const port = parentPort
if (!port) throw new TypeError('src/inference/worker.ts runs only as a worker thread')
const init = workerData as WorkerInit

type Ctor = { new (b: ArrayBuffer, off?: number, len?: number): ArrayBufferView; BYTES_PER_ELEMENT: number }
const VIEWS: Record<string, Ctor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as unknown as Record<string, Ctor>

interface Held {
  session: ort.InferenceSession
  refs: number
  io: { inputs: ValueInfo[]; outputs: ValueInfo[] }
}
const sessions = new Map<string, Held>()

function post(msg: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer)
}

function message(err: unknown): string {
  // onnxruntime-web wraps ONNX Runtime's reason in "Can't create a session. ERROR_CODE: 9, ERROR_MESSAGE: ..."
  const m = (err instanceof Error ? err.message : String(err)).replace(/^[^\n]*?ERROR_CODE: \d+, ERROR_MESSAGE: /, '')
  const line = m.split('\n')[0]
  return line.length > 300 ? `${line.slice(0, 300)}...` : line
}

// onnxruntime-web reports a dynamic dim as 2^32-1; the graph has its symbolic name (which validation needs:
// inputs that share a name must agree), so dims come from the graph where ONNX Runtime has none
function metadata(m: readonly ort.InferenceSession.ValueMetadata[], graph: readonly ValueInfo[]): ValueInfo[] {
  const byName = new Map(graph.map((g) => [g.name, g]))
  return m.map((v) => {
    if (!v.isTensor) return { name: v.name, dtype: 'non-tensor', shape: [] }
    const g = byName.get(v.name)
    const shape = v.shape.map((d, i) =>
      typeof d === 'number' && d >= 0 && d < 0x7fffffff ? d : typeof d === 'string' ? d : (g?.shape[i] ?? ''),
    )
    return { name: v.name, dtype: v.type, shape }
  })
}

function toOrt(t: WireTensor): ort.Tensor {
  if (Array.isArray(t.data)) return new ort.Tensor('string', t.data, t.dims)
  const C = VIEWS[t.type]
  if (!C) throw new TypeError(`tensor "${t.name}": element type ${t.type} is not supported`)
  return new ort.Tensor(t.type as ort.Tensor.Type, new C(t.data) as ort.Tensor.DataType, t.dims)
}

function toWire(name: string, v: ort.OnnxValue): WireTensor {
  const t = v as ort.Tensor
  if (t.type === 'string') return { name, type: 'string', dims: [...t.dims], data: [...(t.data as string[])] }
  if (!VIEWS[t.type] || t.location !== 'cpu') throw new TypeError(`output "${name}" has type ${t.type}`)
  const d = t.data as ArrayBufferView
  // a fresh buffer of exactly the tensor's bytes: transferable, and never a view of the WebAssembly heap
  const data = new Uint8Array(d.byteLength)
  data.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
  canonicaliseNaNs(t.type, data.buffer)
  return { name, type: t.type, dims: [...t.dims], data: data.buffer }
}

async function handle(req: WorkerRequest): Promise<void> {
  switch (req.op) {
    case 'load': {
      let held = sessions.get(req.key)
      if (held) held.refs++
      else {
        const session = await ort.InferenceSession.create(new Uint8Array(req.model), {
          executionProviders: ['wasm'],
          executionMode: req.options.executionMode,
          graphOptimizationLevel: req.options.graphOptimizationLevel,
          enableCpuMemArena: req.options.enableCpuMemArena,
          enableMemPattern: req.options.enableMemPattern,
          logSeverityLevel: 4,
          extra: req.options.extra,
        })
        held = { session, refs: 1, io: graphIO(new Uint8Array(req.model)) }
        sessions.set(req.key, held)
      }
      const s = held.session
      post({
        id: req.id,
        ok: true,
        info: {
          inputs: metadata(s.inputMetadata, held.io.inputs),
          outputs: metadata(s.outputMetadata, held.io.outputs),
          outputNames: [...s.outputNames],
        },
      })
      return
    }
    case 'run': {
      const held = sessions.get(req.key)
      if (!held) throw new TypeError(`no session ${req.key} in this worker`)
      const feeds: Record<string, ort.Tensor> = {}
      for (const t of req.feeds) feeds[t.name] = toOrt(t)
      const res = await held.session.run(feeds)
      const outputs = held.session.outputNames.map((n) => toWire(n, res[n]))
      for (const t of Object.values(res)) (t as ort.Tensor).dispose?.()
      post({ id: req.id, ok: true, outputs }, transferables(outputs))
      return
    }
    case 'release': {
      const held = sessions.get(req.key)
      if (held && --held.refs === 0) {
        sessions.delete(req.key)
        await held.session.release()
      }
      post({ id: req.id, ok: true })
      return
    }
  }
}

/** The pool's first message: the pinned `.wasm`, compiled once in the main thread from the bytes it hashed. */
interface WorkerStart {
  /** A WebAssembly.Module (the project's TypeScript libs have no WebAssembly declarations). */
  module: object
}

// onnxruntime-web hands Emscripten a copy of `wasmBinary`, which Emscripten passes to WebAssembly.instantiate:
// these bytes mark that call, which instantiates the shared module instead of compiling 14 MB once more
// (seconds on a loaded machine: a worker replaced after an abandoned run is ready that much sooner)
const MARK = new TextEncoder().encode('lattice: instantiate the shared module')
const isMark = (src: unknown): boolean =>
  src instanceof Uint8Array && src.length === MARK.length && src.every((b, i) => b === MARK[i])

/** The part of the WebAssembly global this file needs (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: abstract new (...args: never[]) => object
  instantiate(src: unknown, imports?: object): Promise<unknown>
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

function useSharedModule(module: object): void {
  const instantiate = wasmApi.instantiate.bind(wasmApi)
  wasmApi.instantiate = (src: unknown, imports?: object) => {
    if (!isMark(src)) return instantiate(src, imports)
    // given a module, instantiate answers the instance alone; Emscripten expects {module, instance} here
    return instantiate(module, imports).then((instance) => ({ module, instance }))
  }
}

async function start({ module }: WorkerStart): Promise<void> {
  if (!(module instanceof wasmApi.Module)) throw new TypeError('the pool sent no compiled module')
  const version = ort.env.versions.web
  if (version !== init.version)
    throw new TypeError(`onnxruntime-web ${version} is loaded, the profile pins ${init.version}`)
  ort.env.logLevel = 'fatal'
  ort.env.wasm.numThreads = init.numThreads
  ort.env.wasm.proxy = false
  useSharedModule(module)
  ort.env.wasm.wasmBinary = MARK
}

port.once('message', (first: WorkerStart) =>
  start(first).then(
    () => {
      // one request at a time: a run is CPU-bound anyway, and strict order keeps load → run → release simple
      let chain: Promise<void> = Promise.resolve()
      port.on('message', (req: WorkerRequest) => {
        chain = chain.then(() =>
          handle(req).catch((err) => post({ id: req.id, ok: false, stage: req.op, message: message(err) })),
        )
      })
      post({ id: 0, ready: true })
    },
    (err) => post({ id: 0, ready: false, message: message(err) }),
  ),
)
