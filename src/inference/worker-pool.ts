// A bounded pool of inference worker threads (src/inference/worker.ts). Each worker compiles the pinned
// `.wasm` once (~0.5–3 s here, 30–160 s under CPU emulation) and keeps its sessions; a model's session lives in
// one slot of the pool, chosen when it is first loaded, and every run of it goes there.
//
// A slot sends its worker one request at a time and queues the rest here, so it always knows which request
// is running. That is what lets an RPC-path run be abandoned at its deadline (src/inference/run-deadline.ts):
// a queued run is dropped; a running one cannot be interrupted inside the runtime, so its worker is
// terminated and a fresh one takes the slot. The fresh worker loads the slot's sessions again lazily, before
// their next run (the pool keeps a reference to each model's bytes for that), so the requests queued behind
// the abandoned run, a block's inferences among them, go on as if nothing happened.

import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { WorkerPoolError } from './errors.ts'
import { currentRunSignal } from './run-deadline.ts'
import {
  isInstanceFailure,
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

/** Options of a pool request. */
export interface BackgroundOpts {
  /** Work nobody waits for (the runtime's warm-up): it does not keep the process alive by itself. */
  background?: boolean
}

/** One worker thread and what it holds. */
export interface WorkerSlot {
  readonly index: number
  /** Session keys loaded in this slot, with reference counts. */
  readonly keys: Map<string, number>
  dead: boolean
}

/** A request as the pool holds it: a load keeps the caller's bytes until it is sent (then a copy goes). */
type JobRequest =
  | { op: 'load'; key: string; model: Uint8Array; options: WireSessionOptions }
  | { op: 'run'; key: string; feeds: WireTensor[] }
  | { op: 'release'; key: string }

/** A request waiting for, or running in, a slot's worker. */
interface Job {
  req: JobRequest
  key: string
  /** Fires when the caller gives up (an RPC deadline); block execution has none. */
  signal?: AbortSignal
  /** A load the pool made itself to restore a session in a replacement worker (not counted in flight). */
  internal?: boolean
  /** Background work (the runtime's warm-up): it alone does not keep the process alive. */
  background?: boolean
  resolve(r: WorkerResponse): void
  reject(err: Error): void
}

/** Whom a started worker's events go to (the standby has no slot yet) and whether it said it is ready. */
interface Binding {
  slot?: Slot
  ready: boolean
}

interface Started {
  worker: Worker
  binding: Binding
}

interface Slot extends WorkerSlot {
  worker: Worker
  /** Its worker was terminated and none has taken its place yet (one starts when work comes). */
  vacant: boolean
  /** The current worker answered its start-up message. */
  ready: boolean
  /** Sessions loaded in the current worker (a replacement starts with none) and their metadata. */
  loaded: Map<string, WireSessionInfo>
  /** What it takes to load each key of the slot again: the caller's model bytes (not a copy) and options. */
  models: Map<string, { model: Uint8Array; options: WireSessionOptions }>
  queue: Job[]
  running?: { id: number; job: Job }
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

/** A run given up by its caller (an RPC deadline): never a consensus outcome; the RPC layer answers for it. */
export class RunAbandonedError extends WorkerPoolError {
  constructor(readonly running: boolean) {
    super(running ? 'the run was abandoned at its deadline; its worker was replaced' : 'the run was abandoned')
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
  /** Workers terminated because a run they held was abandoned (for tests and metrics). */
  replaced = 0
  /** The pinned `.wasm`, hashed and compiled once (a WebAssembly.Module); every worker instantiates it. */
  private module?: Promise<object>
  /** A started worker waiting to replace one (kept once a run that may be abandoned has been seen). */
  private standby?: Started

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

  /** Load a model under `key` in a slot (the one that already holds `key`, else the least loaded). */
  async load(
    key: string,
    model: Uint8Array,
    options: WireSessionOptions,
    opts: BackgroundOpts = {},
  ): Promise<{ slot: WorkerSlot; info: WireSessionInfo }> {
    const slot = this.place(key)
    const res = await this.request(slot, { op: 'load', key, model, options }, undefined, opts.background)
    slot.keys.set(key, (slot.keys.get(key) ?? 0) + 1)
    if (!slot.models.has(key)) slot.models.set(key, { model, options })
    return { slot, info: (res as { info: WireSessionInfo }).info }
  }

  /**
   * Run the session `key` loaded in `slot`; output buffers are transferred back. Under an RPC deadline
   * ({@link currentRunSignal}) the run is abandoned when it fires: {@link RunAbandonedError}.
   */
  async run(slot: WorkerSlot, key: string, feeds: WireTensor[], opts: BackgroundOpts = {}): Promise<WireTensor[]> {
    const res = await this.request(slot as Slot, { op: 'run', key, feeds }, currentRunSignal(), opts.background)
    return (res as { outputs: WireTensor[] }).outputs
  }

  /** Drop one reference to `key` in `slot`; the worker releases the session at zero. */
  async release(slot: WorkerSlot, key: string, opts: BackgroundOpts = {}): Promise<void> {
    const n = (slot.keys.get(key) ?? 1) - 1
    if (n > 0) {
      slot.keys.set(key, n)
      return
    }
    slot.keys.delete(key)
    const s = slot as Slot
    s.models.delete(key)
    if (slot.dead) return
    await this.request(s, { op: 'release', key }, undefined, opts.background)
  }

  /** Stop every worker (pending requests fail). */
  async close(): Promise<void> {
    this.closed = true
    const all = [...this.slots]
    for (const s of all) this.die(s, 'the pool is closed')
    const standby = this.standby
    this.standby = undefined
    await Promise.all([...all.map((s) => s.worker.terminate()), standby?.worker.terminate()])
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
    const started = this.start()
    const slot: Slot = {
      index: this.slots.length,
      keys: new Map(),
      dead: false,
      worker: started.worker,
      ready: false,
      loaded: new Map(),
      models: new Map(),
      queue: [],
      vacant: false,
    }
    started.binding.slot = slot
    this.slots.push(slot)
    return slot
  }

  /** The pinned `.wasm` compiled once per pool, from bytes whose sha256 is the profile's (a WebAssembly.Module). */
  compiled(): Promise<object> {
    this.module ??= (async () => {
      const { wasmPath, sha256 } = this.init
      const bytes = await readFile(wasmPath)
      const got = createHash('sha256').update(bytes).digest('hex')
      if (got !== sha256) throw new WorkerPoolError(`${wasmPath} has sha256 ${got}, the profile pins ${sha256}`)
      // the project's TypeScript libs do not declare the WebAssembly global
      const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object> } }).WebAssembly
      return wasm.compile(bytes)
    })()
    return this.module
  }

  /**
   * Start a worker, for a slot or as the standby (`binding.slot` unset until a slot adopts it). Its events go to
   * the slot it is bound to, while that slot still holds it; a worker terminated and replaced concerns nobody.
   */
  private start(): Started {
    const worker = startWorker(this.init)
    const binding: Binding = { ready: false }
    const owner = (): Slot | undefined => {
      const s = binding.slot
      return s && s.worker === worker && !s.dead && !s.vacant ? s : undefined
    }
    const failed = (why: string, cause?: unknown) => {
      const slot = owner()
      if (slot) this.die(slot, why, cause)
      else if (this.standby?.worker === worker) this.standby = undefined
      void worker.terminate()
    }
    // the worker's first message: the compiled runtime (it answers "ready" once it has set it up)
    this.compiled().then(
      (module) => worker.postMessage({ module }),
      (err: Error) => failed(`could not start: ${err.message.replace(/^inference worker: /, '')}`),
    )
    worker.on('message', (r: WorkerResponse) => {
      if (r.id === 0) {
        // a worker whose runtime does not start is of no use: stop it, the next load spawns another
        if (!('ready' in r && r.ready)) return failed(`could not start: ${(r as { message: string }).message}`)
        binding.ready = true
        const slot = owner()
        if (slot) {
          slot.ready = true
          this.pump(slot)
        }
        return
      }
      const slot = owner()
      const running = slot?.running
      if (!slot || !running || running.id !== r.id) return
      slot.running = undefined
      this.finish(slot, running.job, r)
      this.pump(slot)
    })
    const gone = (why: string, cause?: unknown) => {
      const slot = owner()
      if (slot) this.crashed(slot, `worker ${slot.index} ${why}`, cause)
      else if (this.standby?.worker === worker) this.standby = undefined
    }
    worker.on('error', (err) => gone(`failed: ${err.message}`, err))
    worker.on('exit', (code) => gone(`exited (code ${code})`))
    // after the listeners: a 'message' listener refs the worker's port. An idle worker (a standby, a slot with
    // nothing to do) must not keep the process alive; a slot refs its worker while it has work
    worker.unref()
    return { worker, binding }
  }

  /** A worker answered the request it was running. */
  private finish(slot: Slot, job: Job, r: WorkerResponse): void {
    if ('ok' in r && !r.ok) {
      // an aborted WebAssembly instance (a trap, memory exhausted) cannot be trusted with the next request
      if (isInstanceFailure(r.message)) this.replace(slot)
      job.reject(new WorkerRefusal(r.stage, r.message))
      return
    }
    if (job.req.op === 'load' && 'info' in r && r.info) slot.loaded.set(job.key, r.info)
    job.resolve(r)
  }

  /**
   * The worker died unasked (a crash, or terminated from outside): what it was running fails as local to
   * this node; the queued requests go on in a replacement, which loads their sessions again.
   */
  private crashed(slot: Slot, why: string, cause?: unknown): void {
    // a worker that dies before it is ready would die again: no restart loop
    if (this.closed || !slot.ready) {
      this.die(slot, why, cause)
      return
    }
    const running = slot.running
    slot.running = undefined
    running?.job.reject(new WorkerPoolError(why, { cause }))
    this.replace(slot)
  }

  /**
   * Terminate the slot's worker (if still alive). The standby, when there is one (started, usually ready: no
   * start-up on the path of the next request), takes its place at once; else a fresh worker starts only when
   * work is waiting (pump()): a node that is closing aborts its calls, and a worker starting then would only
   * delay its exit. The next standby starts with the next RPC-path run (request()).
   */
  private replace(slot: Slot): void {
    const old = slot.worker
    slot.running = undefined
    slot.ready = false
    slot.loaded.clear()
    slot.vacant = true
    void old.terminate()
    if (this.standby) this.occupy(slot)
    this.pump(slot)
  }

  /** Put the standby, or a fresh worker, in a vacant slot. */
  private occupy(slot: Slot): void {
    const next = this.standby ?? this.start()
    this.standby = undefined
    next.binding.slot = slot
    slot.worker = next.worker
    slot.ready = next.binding.ready
    slot.vacant = false
  }

  /** The slot is unusable: every request waiting there fails. */
  private die(slot: Slot, why: string, cause?: unknown): void {
    if (slot.dead) return
    slot.dead = true
    const jobs = [...(slot.running ? [slot.running.job] : []), ...slot.queue]
    slot.running = undefined
    slot.queue = []
    for (const job of jobs) job.reject(new WorkerPoolError(why, { cause }))
    slot.worker.unref()
  }

  /** Queue a request on `slot`; it settles when the worker answers, the caller gives up or the slot dies. */
  private request(slot: Slot, req: JobRequest, signal?: AbortSignal, background?: boolean): Promise<WorkerResponse> {
    if (slot.dead) return Promise.reject(new WorkerPoolError(`worker ${slot.index} is gone`))
    if (signal?.aborted) return Promise.reject(new RunAbandonedError(false))
    if (this.inFlight >= this.maxQueue) {
      return Promise.reject(
        new WorkerPoolError(`${this.inFlight} requests are waiting (the bound is ${this.maxQueue}); try again`),
      )
    }
    this.inFlight++
    // a run that may be abandoned may cost its worker: have the replacement started before it is needed
    if (signal && !this.standby && !this.closed) this.standby = this.start()
    return new Promise<WorkerResponse>((resolve, reject) => {
      let settled = false
      const onAbort = () => this.abandon(slot, job)
      const done = () => {
        if (settled) return false
        settled = true
        this.inFlight--
        signal?.removeEventListener('abort', onAbort)
        return true
      }
      const job: Job = {
        req,
        key: req.key,
        signal,
        background,
        resolve: (r) => done() && resolve(r),
        reject: (e) => done() && reject(e),
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.enqueue(slot, job)
      this.pump(slot)
    })
  }

  /**
   * Queue `job` on `slot`. A request without a deadline (block execution) goes ahead of the RPC-path runs
   * waiting at the tail, so hostile calls queued there delay a block by at most the run in progress (which
   * its deadline bounds), not by all of theirs; everything else keeps its order.
   */
  private enqueue(slot: Slot, job: Job): void {
    let at = slot.queue.length
    if (!job.signal) while (at > 0 && slot.queue[at - 1]?.signal && slot.queue[at - 1]?.req.op === 'run') at--
    slot.queue.splice(at, 0, job)
  }

  /** The caller of `job` gave up: drop it if it waits, replace the worker if it runs. */
  private abandon(slot: Slot, job: Job): void {
    const at = slot.queue.indexOf(job)
    if (at >= 0) {
      slot.queue.splice(at, 1)
      job.reject(new RunAbandonedError(false))
      this.refresh(slot)
      return
    }
    if (slot.running?.job !== job || slot.dead) return
    this.replaced++
    job.reject(new RunAbandonedError(true))
    this.replace(slot)
  }

  /** Keep the process alive while the slot has work, and only then. */
  private refresh(slot: Slot): void {
    if (slot.dead || slot.vacant) return
    // a reload the pool queued itself is nobody's request: it alone does not hold the process
    const holds = (j: Job) => !j.internal && !j.background
    const busy = (slot.running && holds(slot.running.job)) || slot.queue.some(holds)
    if (busy) slot.worker.ref()
    else slot.worker.unref()
  }

  /** Send the slot's worker its next request, once it is started and idle. */
  private pump(slot: Slot): void {
    if (slot.vacant && !slot.dead && slot.queue.length > 0) this.occupy(slot)
    this.refresh(slot)
    while (!slot.dead && slot.ready && !slot.running && slot.queue.length > 0) {
      const job = slot.queue[0] as Job
      if (job.internal && !slot.queue.some((q) => q.req.op === 'run' && q.key === job.key)) {
        // the runs it was for were abandoned meanwhile: the session loads again when one comes
        slot.queue.shift()
        continue
      }
      if (job.req.op === 'load' && !job.internal) {
        // one session per key per worker: a second load of a key is answered from what the first one learnt
        const info = slot.loaded.get(job.key)
        if (info) {
          slot.queue.shift()
          job.resolve({ id: 0, ok: true, info })
          continue
        }
      }
      if (job.req.op === 'release' && (slot.keys.has(job.key) || !slot.loaded.has(job.key))) {
        // loaded again since, or never loaded in this worker (replaced meanwhile): nothing to release
        slot.queue.shift()
        job.resolve({ id: 0, ok: true })
        continue
      }
      if (job.req.op === 'run' && !slot.loaded.has(job.key)) {
        // queues a load of its session ahead of it (or fails it): either way the queue's head has changed
        this.restore(slot, job)
        continue
      }
      slot.queue.shift()
      this.post(slot, job)
    }
    this.refresh(slot)
  }

  /**
   * Queue a load of `run`'s session ahead of it (the worker was replaced since it was loaded); when the slot
   * no longer has the model's bytes, the run fails as local to this node.
   */
  private restore(slot: Slot, run: Job): void {
    const m = slot.models.get(run.key)
    if (!m) {
      slot.queue.shift()
      run.reject(new WorkerPoolError(`no session ${run.key} in worker ${slot.index}`))
      return
    }
    const fail = (err: Error) => {
      // a model that loaded before and not now: every run of it waiting here fails, never as a run error
      for (const j of slot.queue.filter((q) => q.req.op === 'run' && q.key === run.key)) {
        slot.queue.splice(slot.queue.indexOf(j), 1)
        j.reject(new WorkerPoolError(`the session could not be loaded again: ${err.message}`, { cause: err }))
      }
    }
    slot.queue.unshift({
      req: { op: 'load', key: run.key, model: m.model, options: m.options },
      key: run.key,
      internal: true,
      resolve: () => {},
      reject: fail,
    })
  }

  private post(slot: Slot, job: Job): void {
    const id = this.nextId++
    slot.running = { id, job }
    const req = job.req
    if (req.op === 'load') {
      // the caller keeps its bytes (and the slot keeps them for a reload); a copy is transferred
      const copy = new Uint8Array(req.model).buffer
      const msg: WorkerRequest = { id, op: 'load', key: req.key, model: copy, options: req.options }
      slot.worker.postMessage(msg, [copy])
    } else if (req.op === 'run') {
      slot.worker.postMessage({ ...req, id } satisfies WorkerRequest, transferables(req.feeds))
    } else {
      slot.loaded.delete(job.key)
      slot.worker.postMessage({ ...req, id } satisfies WorkerRequest)
    }
  }
}
