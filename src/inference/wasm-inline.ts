// The consensus runtime on the calling thread, for runs too small to be worth a worker round trip. An iris
// inference takes ~0.1 ms; handing it to a worker thread costs 1-5 ms of posting, waking and transferring
// on a loaded machine. The module the worker pool compiled from the pinned `.wasm` bytes, the same session
// options and the same conversions (wasm-ort.ts) run here, so the outputs are byte-identical to the worker's.
//
// What a worker gives and this does not: a run here blocks the JS thread and cannot be abandoned at an RPC
// deadline. So only a call whose static cost (gas, known before the run) says it is tiny comes here (the
// caller decides: RunOpts.inline), and only models up to INLINE_MAX_MODEL_BYTES get a session here.
import type * as Ort from 'onnxruntime-web'
import { InferenceRunError, WorkerPoolError } from './errors.ts'
import { isInstanceFailure, type WireSessionOptions, type WireTensor, type WorkerInit } from './wasm-wire.ts'

/** Largest model that gets a session on the calling thread as well as in a worker. */
export const INLINE_MAX_MODEL_BYTES = 1 << 20

/** A session of a model on the calling thread. */
export interface InlineSession {
  /**
   * Outputs as the worker would give them; undefined when this thread's runtime was given up since (run it
   * in the worker). ONNX Runtime's refusal is an InferenceRunError with the reason a worker reports.
   */
  run(feeds: readonly WireTensor[]): Promise<WireTensor[] | undefined>
  release(): Promise<void>
}

interface Runtime {
  sha256: string
  ort: Promise<typeof Ort>
  helpers: Promise<typeof import('./wasm-ort.ts')>
  /** A run trapped: this thread's WebAssembly instance is not trusted again (runs go to workers). */
  broken: boolean
}

// one onnxruntime-web per process: its WebAssembly instance is initialised once, with the first pin used
let runtime: Runtime | undefined

async function startRuntime(init: WorkerInit, module: Promise<object>): Promise<typeof Ort> {
  // loaded on first use: a node whose models all run in workers never loads onnxruntime-web on this thread
  const [ort, helpers, compiled] = await Promise.all([import('onnxruntime-web'), import('./wasm-ort.ts'), module])
  if (ort.env.versions.web !== init.version) {
    throw new WorkerPoolError(`onnxruntime-web ${ort.env.versions.web} is loaded, the profile pins ${init.version}`)
  }
  // the module the pool compiled from the bytes it hashed: the bytes checked are the bytes run, compiled once
  helpers.useCompiledModule(compiled, init.numThreads)
  return ort
}

/** The calling thread's runtime for `init`'s pin, or undefined (another pin started here, or it broke). */
function runtimeFor(init: WorkerInit, module: () => Promise<object>): Runtime | undefined {
  runtime ??= {
    sha256: init.sha256,
    ort: startRuntime(init, module()),
    helpers: import('./wasm-ort.ts'),
    broken: false,
  }
  // a start-up failure only means runs stay in workers
  runtime.ort.catch(() => {})
  runtime.helpers.catch(() => {})
  return runtime.sha256 === init.sha256 && !runtime.broken ? runtime : undefined
}

/**
 * onnxruntime-web on the calling thread, started for `init`'s pin (undefined if another pin started here or
 * it does not start). Benchmarks take their bare same-runtime baseline from it: whoever first creates a
 * session on a thread fixes that thread's runtime set-up, so it must be this function.
 */
export async function inlineRuntime(init: WorkerInit, module: () => Promise<object>): Promise<typeof Ort | undefined> {
  const rt = runtimeFor(init, module)
  return rt ? rt.ort.catch(() => undefined) : undefined
}

let runs = 0

/** Runs made on the calling thread so far in this process (tests, metrics). */
export function inlineRuns(): number {
  return runs
}

/**
 * Load `model` on the calling thread. Resolves undefined when it cannot run here (a model over
 * INLINE_MAX_MODEL_BYTES, the runtime not starting, a load error): the worker's session serves it then.
 */
export async function openInlineSession(
  init: WorkerInit,
  module: () => Promise<object>,
  model: Uint8Array,
  options: WireSessionOptions,
): Promise<InlineSession | undefined> {
  if (model.byteLength > INLINE_MAX_MODEL_BYTES) return undefined
  const rt = runtimeFor(init, module)
  if (!rt) return undefined
  try {
    const [ort, { ortMessage, runWeb, webSessionOptions }] = await Promise.all([rt.ort, rt.helpers])
    const session = await ort.InferenceSession.create(new Uint8Array(model), webSessionOptions(options))
    return {
      async run(feeds) {
        if (rt.broken) return undefined
        runs++
        try {
          return await runWeb(session, feeds)
        } catch (err) {
          const why = ortMessage(err)
          // as the pool replaces a worker whose instance trapped, this thread's instance is not used again
          if (isInstanceFailure(why)) rt.broken = true
          throw new InferenceRunError(why, { cause: err })
        }
      },
      async release() {
        await session.release()
      },
    }
  } catch {
    return undefined
  }
}
