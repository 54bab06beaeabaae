// A node's first inferences used to cost 2.5-3x the steady state (docs/benchmarks.md, "First inferences of a fresh
// node"): the first starts the worker and instantiates the runtime, and onnxruntime-web's WebAssembly functions are
// compiled lazily (Liftoff, on first call) and then tiered up by TurboFan on background threads while the next
// runs compete with it for the cores. Compiled code lives in the module the pool compiled once and shares with
// every worker (and the calling thread's runtime), so a few runs of a small fixed model right after start-up pay
// that once, off the path of the first transaction. The warm-up session is the worker's own (its key is not a
// model digest) and is released afterwards; nothing it does reaches state, gas or records.
import { buildModel, ElemType } from './builder.ts'
import type { InferenceProfile } from './profile.ts'
import { wasmPool, wireOptions } from './wasm.ts'
import type { WireTensor } from './wasm-wire.ts'

/** Runs of the warm-up model (enough for the session and run paths to tier up; each takes well under 1 ms). */
export const WARM_UP_RUNS = 40

/**
 * The warm-up graph: x float32[1,8] -> MatMul, Add, Relu, MatMul, Softmax and ArgMax (the ops of the example
 * models' classifiers), so the runtime's session set-up, its run path and these kernels are compiled.
 */
export function warmUpModel(): Uint8Array {
  const w1 = Float32Array.from({ length: 64 }, (_, i) => ((i * 7) % 11) / 11 - 0.5)
  const w2 = Float32Array.from({ length: 32 }, (_, i) => ((i * 5) % 13) / 13 - 0.5)
  return buildModel({
    name: 'lattice-warm-up',
    inputs: [{ name: 'x', elemType: ElemType.float32, shape: [1, 8] }],
    outputs: [
      { name: 'p', elemType: ElemType.float32, shape: [1, 4] },
      { name: 'c', elemType: ElemType.int64, shape: [1] },
    ],
    initializers: [
      { name: 'W1', elemType: ElemType.float32, dims: [8, 8], data: w1 },
      { name: 'B1', elemType: ElemType.float32, dims: [8], data: new Float32Array(8).fill(0.25) },
      { name: 'W2', elemType: ElemType.float32, dims: [8, 4], data: w2 },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h0'] },
      { op: 'Add', inputs: ['h0', 'B1'], outputs: ['h1'] },
      { op: 'Relu', inputs: ['h1'], outputs: ['h2'] },
      { op: 'MatMul', inputs: ['h2', 'W2'], outputs: ['l'] },
      { op: 'Softmax', inputs: ['l'], outputs: ['p'], attrs: { axis: { i: -1 } } },
      { op: 'ArgMax', inputs: ['l'], outputs: ['c'], attrs: { axis: { i: -1 }, keepdims: { i: 0 } } },
    ],
  })
}

/** Options of {@link warmUpWasm}. */
export interface WarmUpOpts {
  /** Runs of the warm-up model (default {@link WARM_UP_RUNS}). */
  runs?: number
  signal?: AbortSignal
}

/** What a warm-up did. */
export interface WarmUpResult {
  runs: number
  /** Wall ms from the start to the release of the warm-up session. */
  ms: number
  /** The last run's outputs (tests compare them with a worker's fresh run). */
  outputs: WireTensor[]
}

/** The warm-up model's input: x = [0.1, 0.2, ..., 0.8]. */
function feeds(): WireTensor[] {
  const x = Float32Array.from({ length: 8 }, (_, i) => (i + 1) / 10)
  return [{ name: 'x', type: 'float32', dims: [1, 8], data: x.buffer }]
}

const started = new WeakSet<object>()

/**
 * Start a worker of `profile`'s pool (a wasm profile) and run the warm-up model in it `runs` times. Once per pool:
 * a second call answers undefined at once. A failure is only a missed warm-up (the first real load reports its
 * own), so it resolves undefined then too.
 */
export async function warmUpWasm(profile: InferenceProfile, opts: WarmUpOpts = {}): Promise<WarmUpResult | undefined> {
  const pool = wasmPool(profile)
  if (started.has(pool)) return undefined
  started.add(pool)
  const t0 = performance.now()
  const key = `warm-up:${profile.id}`
  const runs = opts.runs ?? WARM_UP_RUNS
  try {
    // background: a node closed during its warm-up exits without waiting for it
    const bg = { background: true }
    const { slot } = await pool.load(key, warmUpModel(), wireOptions(profile), bg)
    let outputs: WireTensor[] = []
    let done = 0
    try {
      for (; done < runs && !opts.signal?.aborted; done++) outputs = await pool.run(slot, key, feeds(), bg)
    } finally {
      await pool.release(slot, key, bg)
    }
    return { runs: done, ms: performance.now() - t0, outputs }
  } catch {
    return undefined
  }
}
