// What both hosts of the consensus runtime do with onnxruntime-web: the worker thread (worker.ts) and the
// calling thread for tiny runs (wasm-inline.ts). One copy of the session options, the tensor conversions and
// the NaN canonicalisation, so that a run gives the same bytes wherever it runs, by construction.
import * as ort from 'onnxruntime-web'
import type { ValueInfo } from './validate.ts'
import { canonicaliseNaNs, type WireSessionOptions, type WireTensor } from './wasm-wire.ts'

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

/** onnxruntime-web's session options for a profile's wire options (the only place they are spelt out). */
export function webSessionOptions(o: WireSessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['wasm'],
    executionMode: o.executionMode,
    graphOptimizationLevel: o.graphOptimizationLevel,
    enableCpuMemArena: o.enableCpuMemArena,
    enableMemPattern: o.enableMemPattern,
    logSeverityLevel: 4,
    extra: o.extra,
  }
}

/** ONNX Runtime's reason for a failure, without onnxruntime-web's wrapping, on one line. */
export function ortMessage(err: unknown): string {
  // onnxruntime-web wraps ONNX Runtime's reason in "Can't create a session. ERROR_CODE: 9, ERROR_MESSAGE: ..."
  const m = (err instanceof Error ? err.message : String(err)).replace(/^[^\n]*?ERROR_CODE: \d+, ERROR_MESSAGE: /, '')
  const line = m.split('\n')[0]
  return line.length > 300 ? `${line.slice(0, 300)}...` : line
}

// onnxruntime-web reports a dynamic dim as 2^32-1; the graph has its symbolic name (which validation needs:
// inputs that share a name must agree), so dims come from the graph where ONNX Runtime has none
export function webMetadata(
  m: readonly ort.InferenceSession.ValueMetadata[],
  graph: readonly ValueInfo[],
): ValueInfo[] {
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

/** A wire tensor as onnxruntime-web's tensor (a view of its buffer: the runtime copies it into its heap). */
export function wireToWeb(t: WireTensor): ort.Tensor {
  if (Array.isArray(t.data)) return new ort.Tensor('string', t.data, t.dims)
  const C = VIEWS[t.type]
  if (!C) throw new TypeError(`tensor "${t.name}": element type ${t.type} is not supported`)
  return new ort.Tensor(t.type as ort.Tensor.Type, new C(t.data) as ort.Tensor.DataType, t.dims)
}

/** An output as a wire tensor: its bytes copied out of the runtime, NaNs canonicalised. */
export function webToWire(name: string, v: ort.OnnxValue): WireTensor {
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

/** Run `session` on wire feeds; outputs in the session's output order, their runtime tensors disposed. */
export async function runWeb(session: ort.InferenceSession, feeds: readonly WireTensor[]): Promise<WireTensor[]> {
  const input: Record<string, ort.Tensor> = {}
  for (const t of feeds) input[t.name] = wireToWeb(t)
  const res = await session.run(input)
  const outputs = session.outputNames.map((n) => webToWire(n, res[n]))
  for (const t of Object.values(res)) (t as ort.Tensor).dispose?.()
  return outputs
}

// onnxruntime-web hands Emscripten a copy of `wasmBinary`, which Emscripten passes to WebAssembly.instantiate:
// these bytes mark that call, which instantiates the pool's compiled module instead of compiling 14 MB once
// more (seconds of CPU on a loaded machine: for a worker replaced after an abandoned run, and for the calling
// thread's runtime, whose own compile cost ~2.4 s of CPU spread over the first 80 iris transactions)
const MARK = new TextEncoder().encode('lattice: instantiate the shared module')
const isMark = (src: unknown): boolean =>
  src instanceof Uint8Array && src.length === MARK.length && src.every((b, i) => b === MARK[i])

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: abstract new (...args: never[]) => object
  instantiate(src: unknown, imports?: object): Promise<unknown>
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/**
 * Set this thread's onnxruntime-web up to instantiate `module` (the pool's WebAssembly.Module, compiled from
 * the bytes whose sha256 the profile pins) with `numThreads` threads. Only the marker's instantiate call is
 * diverted; every other use of WebAssembly.instantiate on the thread passes through unchanged.
 */
export function useCompiledModule(module: object, numThreads: number): void {
  if (!(module instanceof wasmApi.Module)) throw new TypeError('no compiled WebAssembly module was given')
  ort.env.logLevel = 'fatal'
  ort.env.wasm.numThreads = numThreads
  ort.env.wasm.proxy = false
  const instantiate = wasmApi.instantiate.bind(wasmApi)
  wasmApi.instantiate = (src: unknown, imports?: object) => {
    if (!isMark(src)) return instantiate(src, imports)
    // given a module, instantiate answers the instance alone; Emscripten expects {module, instance} here
    return instantiate(module, imports).then((instance) => ({ module, instance }))
  }
  ort.env.wasm.wasmBinary = MARK
}
