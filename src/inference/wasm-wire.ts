// Messages between the main thread and an inference worker (src/inference/worker.ts). Tensors travel as
// bytes in ArrayBuffers that are transferred, not copied.
import type { ValueInfo } from './validate.ts'

/**
 * A tensor on the wire: ONNX Runtime's type name, dims and the little-endian data bytes (a `string` tensor, which
 * only the raw conformance path uses, carries its strings).
 */
export interface WireTensor {
  name: string
  type: string
  dims: number[]
  data: ArrayBuffer | string[]
}

/** The buffers of `tensors` that can be transferred (not copied) to the other thread. */
export function transferables(tensors: readonly WireTensor[]): ArrayBuffer[] {
  return tensors.flatMap((t) => (t.data instanceof ArrayBuffer ? [t.data] : []))
}

/** What a worker needs to start: the `.wasm` file it must instantiate and the hash those bytes must have. */
export interface WorkerInit {
  wasmPath: string
  sha256: string
  /** onnxruntime-web version the profile pins (compared with `ort.env.versions.web`). */
  version: string
  numThreads: number
}

/** Session options sent with a load (the profile's, in ONNX Runtime's shape). */
export interface WireSessionOptions {
  executionMode: 'sequential' | 'parallel'
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all'
  enableCpuMemArena: boolean
  enableMemPattern: boolean
  extra: Record<string, string>
}

export type WorkerRequest =
  | { id: number; op: 'load'; key: string; model: ArrayBuffer; options: WireSessionOptions }
  | { id: number; op: 'run'; key: string; feeds: WireTensor[] }
  | { id: number; op: 'release'; key: string }

/** Input and output metadata of a loaded session. */
export interface WireSessionInfo {
  inputs: ValueInfo[]
  outputs: ValueInfo[]
  outputNames: string[]
}

export type WorkerResponse =
  | { id: number; ok: true; info?: WireSessionInfo; outputs?: WireTensor[] }
  | { id: number; ok: false; stage: 'load' | 'run' | 'release'; message: string }
  /** Sent once after start-up: the runtime loaded and its `.wasm` bytes matched (or why not). */
  | { id: 0; ready: true }
  | { id: 0; ready: false; message: string }

/** An aborted WebAssembly instance (a trap, memory exhausted) cannot be trusted with the next request. */
export function isInstanceFailure(message: string): boolean {
  return /abort|RuntimeError|out of memory/i.test(message)
}

/**
 * Rewrite every NaN to the one canonical quiet NaN of its width. WebAssembly leaves NaN payloads and signs
 * unspecified (they differ across CPUs); every other float bit is deterministic, denormals included.
 */
export function canonicaliseNaNs(type: string, data: ArrayBuffer): void {
  if (type === 'float32') {
    const u = new Uint32Array(data)
    for (let i = 0; i < u.length; i++) if ((u[i] & 0x7fffffff) > 0x7f800000) u[i] = 0x7fc00000
  } else if (type === 'float16') {
    const u = new Uint16Array(data)
    for (let i = 0; i < u.length; i++) if ((u[i] & 0x7fff) > 0x7c00) u[i] = 0x7e00
  } else if (type === 'float64') {
    const u = new BigUint64Array(data)
    for (let i = 0; i < u.length; i++) {
      if ((u[i] & 0x7fffffffffffffffn) > 0x7ff0000000000000n) u[i] = 0x7ff8000000000000n
    }
  }
}
