// An inference worker thread: onnxruntime-web (WebAssembly, one thread) with sessions cached by key
// (profile id + model digest). It instantiates the module the pool compiled from exactly the `.wasm` bytes
// whose sha256 the profile pins, so the bytes checked are the bytes run. Runs here, not on the node's JS
// thread, so a long inference never stalls RPC or block building. See src/inference/worker-pool.ts for the
// other side.
import { parentPort, workerData } from 'node:worker_threads'
import * as ort from 'onnxruntime-web'
import { graphIO } from './graph-io.ts'
import type { ValueInfo } from './validate.ts'
import { ortMessage, runWeb, useCompiledModule, webMetadata, webSessionOptions } from './wasm-ort.ts'
import { transferables, type WorkerInit, type WorkerRequest, type WorkerResponse } from './wasm-wire.ts'

const port = parentPort
if (!port) throw new TypeError('src/inference/worker.ts runs only as a worker thread')
const init = workerData as WorkerInit

interface Held {
  session: ort.InferenceSession
  refs: number
  io: { inputs: ValueInfo[]; outputs: ValueInfo[] }
}
const sessions = new Map<string, Held>()

function post(msg: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer)
}

async function handle(req: WorkerRequest): Promise<void> {
  switch (req.op) {
    case 'load': {
      let held = sessions.get(req.key)
      if (held) held.refs++
      else {
        const session = await ort.InferenceSession.create(new Uint8Array(req.model), webSessionOptions(req.options))
        held = { session, refs: 1, io: graphIO(new Uint8Array(req.model)) }
        sessions.set(req.key, held)
      }
      const s = held.session
      post({
        id: req.id,
        ok: true,
        info: {
          inputs: webMetadata(s.inputMetadata, held.io.inputs),
          outputs: webMetadata(s.outputMetadata, held.io.outputs),
          outputNames: [...s.outputNames],
        },
      })
      return
    }
    case 'run': {
      const held = sessions.get(req.key)
      if (!held) throw new TypeError(`no session ${req.key} in this worker`)
      const outputs = await runWeb(held.session, req.feeds)
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

async function start({ module }: WorkerStart): Promise<void> {
  const version = ort.env.versions.web
  if (version !== init.version)
    throw new TypeError(`onnxruntime-web ${version} is loaded, the profile pins ${init.version}`)
  useCompiledModule(module, init.numThreads)
}

port.once('message', (first: WorkerStart) =>
  start(first).then(
    () => {
      // one request at a time: a run is CPU-bound anyway, and strict order keeps load → run → release simple
      let chain: Promise<void> = Promise.resolve()
      port.on('message', (req: WorkerRequest) => {
        chain = chain.then(() =>
          handle(req).catch((err) => post({ id: req.id, ok: false, stage: req.op, message: ortMessage(err) })),
        )
      })
      post({ id: 0, ready: true })
    },
    (err) => post({ id: 0, ready: false, message: ortMessage(err) }),
  ),
)
