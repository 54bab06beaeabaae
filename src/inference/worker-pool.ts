// A bounded pool of inference worker threads (src/inference/worker.ts). Each worker compiles the pinned
// `.wasm` once (~0.5–3 s here, 30–160 s under CPU emulation) and keeps its sessions; a model's session lives in
// one worker, chosen when it is first loaded, and every run of it goes there.

import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { WorkerPoolError } from './errors.ts'
import {
  transferables,
  type WireSessionInfo,
  type WireSessionOptions,
  type WireTensor,
  type WorkerInit,
  type WorkerRequest,
  type WorkerResponse,
} from './wasm-wire.ts'

/** Default number of workers: 2 (one model can run while another loads or an off-chain call runs), 1 on one core. */
export const DEFAULT_POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1))
/** Default bound on requests waiting for a worker, across the pool. */
export const DEFAULT_MAX_QUEUE = 256

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOpts {
  init: WorkerInit
  /** Most worker threads (default `LATTICE_INFERENCE_WORKERS` or {@link DEFAULT_POOL_SIZE}). */
  size?: number
  /** Most requests in flight across the pool; more are refused (default {@link DEFAULT_MAX_QUEUE}). */
  maxQueue?: number
}

interface Pending {
  resolve(r: WorkerResponse): void
  reject(err: Error): void
}

/** One worker thread and what it holds. */
export interface WorkerSlot {
  readonly index: number
  /** Session keys loaded in this worker, with reference counts. */
  readonly keys: Map<string, number>
  dead: boolean
}

interface Slot extends WorkerSlot {
  worker: Worker
  ready: Promise<void>
  pending: Map<number, Pending>
}

// The worker runs as the compiled .js of `npm run build`, or from the TypeScript sources: then a small eval'd
// script registers tsx in the worker first (Node 20 does not apply `--import` loader hooks to a worker's entry).
function startWorker(init: WorkerInit): Worker {
  const ts = import.meta.url.endsWith('.ts')
  const url = new URL(ts ? './worker.ts' : './worker.js', import.meta.url)
  if (!ts) return new Worker(url, { workerData: init })
  const require = createRequire(import.meta.url)
  const api = pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs'))
  const code = `import(${JSON.stringify(api.href)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(code, { eval: true, workerData: init })
}

/**
 * The worker answered and refused: the model failed to load or to run in the runtime (the same on every
 * node, so a consensus outcome). Anything else from the pool (a worker gone, the queue full) is local.
 */
export class WorkerRefusal extends WorkerPoolError {
  constructor(
    readonly stage: 'load' | 'run' | 'release',
    readonly why: string,
  ) {
    super(`${stage}: ${why}`)
  }
}

/** A fixed-size set of inference workers; requests are bytes in, bytes out. */
export class WorkerPool {
  readonly size: number
  readonly maxQueue: number
  private readonly init: WorkerInit
  private readonly slots: Slot[] = []
  private nextId = 1
  private inFlight = 0
  private closed = false

  constructor(opts: WorkerPoolOpts) {
    const env = Number(process.env.LATTICE_INFERENCE_WORKERS)
    this.size = opts.size ?? (Number.isInteger(env) && env > 0 ? env : DEFAULT_POOL_SIZE)
    this.maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE
    this.init = opts.init
  }

  /** Workers started so far. */
  get started(): number {
    return this.slots.filter((s) => !s.dead).length
  }

  /** Load a model under `key` in a worker (the one that already holds `key`, else the least loaded). */
  async load(
    key: string,
    model: Uint8Array,
    options: WireSessionOptions,
  ): Promise<{ slot: WorkerSlot; info: WireSessionInfo }> {
    const slot = this.place(key)
    const copy = new Uint8Array(model).buffer // the caller keeps its bytes; the copy is transferred
    const res = await this.request(slot, { id: 0, op: 'load', key, model: copy, options }, [copy])
    slot.keys.set(key, (slot.keys.get(key) ?? 0) + 1)
    return { slot, info: (res as { info: WireSessionInfo }).info }
  }

  /** Run the session `key` loaded in `slot`; output buffers are transferred back. */
  async run(slot: WorkerSlot, key: string, feeds: WireTensor[]): Promise<WireTensor[]> {
    const res = await this.request(slot as Slot, { id: 0, op: 'run', key, feeds }, transferables(feeds))
    return (res as { outputs: WireTensor[] }).outputs
  }

  /** Drop one reference to `key` in `slot`; the worker releases the session at zero. */
  async release(slot: WorkerSlot, key: string): Promise<void> {
    const n = (slot.keys.get(key) ?? 1) - 1
    if (n > 0) slot.keys.set(key, n)
    else slot.keys.delete(key)
    if (slot.dead) return
    await this.request(slot as Slot, { id: 0, op: 'release', key }, [])
  }

  /** Stop every worker (pending requests fail). */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }

  private place(key: string): Slot {
    if (this.closed) throw new WorkerPoolError('the pool is closed')
    const live = this.slots.filter((s) => !s.dead)
    const holder = live.find((s) => s.keys.has(key))
    if (holder) return holder
    const idle = live.find((s) => s.keys.size === 0)
    if (idle) return idle
    if (live.length < this.size) return this.spawn()
    return live.reduce((a, b) => (b.keys.size < a.keys.size ? b : a))
  }

  private spawn(): Slot {
    const worker = startWorker(this.init)
    worker.unref()
    const slot: Slot = {
      index: this.slots.length,
      keys: new Map(),
      dead: false,
      worker,
      pending: new Map(),
      ready: Promise.resolve(),
    }
    const die = (why: string, cause?: unknown) => {
      if (slot.dead) return
      slot.dead = true
      for (const p of slot.pending.values()) p.reject(new WorkerPoolError(why, { cause }))
      this.inFlight -= [...slot.pending.keys()].filter((id) => id !== 0).length
      slot.pending.clear()
      worker.unref()
    }
    slot.ready = new Promise<void>((resolve, reject) => {
      slot.pending.set(0, {
        resolve: (r) => {
          if ('ready' in r && r.ready) return resolve()
          // a worker whose runtime does not start is of no use: stop it, the next load spawns another
          const why = (r as { message: string }).message
          die(`worker ${slot.index} could not start: ${why}`)
          void worker.terminate()
          reject(new WorkerPoolError(`could not start: ${why}`))
        },
        reject,
      })
    })
    slot.ready.catch(() => {})
    worker.on('message', (r: WorkerResponse) => {
      const p = slot.pending.get(r.id)
      if (!p) return
      slot.pending.delete(r.id)
      if (r.id !== 0) this.settled(slot)
      p.resolve(r)
    })
    worker.on('error', (err) => die(`worker ${slot.index} failed: ${err.message}`, err))
    worker.on('exit', (code) => die(`worker ${slot.index} exited (code ${code})`))
    this.slots.push(slot)
    return slot
  }

  private settled(slot: Slot): void {
    this.inFlight--
    // an idle worker must not keep the process alive; a busy one must
    if ([...slot.pending.keys()].every((id) => id === 0)) slot.worker.unref()
  }

  private async request(slot: Slot, req: WorkerRequest, transfer: ArrayBuffer[]): Promise<WorkerResponse> {
    if (slot.dead) throw new WorkerPoolError(`worker ${slot.index} is gone`)
    if (this.inFlight >= this.maxQueue) {
      throw new WorkerPoolError(`${this.inFlight} requests are waiting (the bound is ${this.maxQueue}); try again`)
    }
    const id = this.nextId++
    this.inFlight++
    slot.worker.ref()
    const res = new Promise<WorkerResponse>((resolve, reject) => slot.pending.set(id, { resolve, reject }))
    res.catch(() => {}) // awaited below; a worker that dies during start-up rejects it first
    // the worker answers in order, after its start-up: wait for that so a start-up failure is reported as such
    try {
      await slot.ready
    } catch (err) {
      if (slot.pending.delete(id)) this.settled(slot)
      throw err
    }
    slot.worker.postMessage({ ...req, id }, transfer)
    const r = await res
    if ('ok' in r && !r.ok) {
      // an aborted WebAssembly instance (a trap, memory exhausted) cannot be trusted with the next request
      if (/abort|RuntimeError|out of memory/i.test(r.message)) this.retire(slot)
      throw new WorkerRefusal(r.stage, r.message)
    }
    return r
  }

  /** Stop a worker whose runtime may be broken; sessions on it load again elsewhere on their next run. */
  private retire(slot: Slot): void {
    slot.dead = true
    void slot.worker.terminate()
  }
}
