// sha256 on worker threads. Importing a file hashes every byte once; on the main thread that hash was the
// import's ceiling (0.55-0.83x of the sha256 bound before any block was written), so leaves are hashed here
// while the main thread reads the next leaf and writes the previous ones.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { HashWorkerError } from './errors.ts'

// Plain CommonJS evaluated in the worker: no loader (tsx, vitest) has to reach it, and it has one job.
// The bytes stay in a SharedArrayBuffer the caller owns; only offsets go over, 32 bytes come back.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
parentPort.on('message', (m) => {
  if (m.ab) {
    const d = createHash('sha256').update(new Uint8Array(m.ab)).digest()
    parentPort.postMessage({ id: m.id, digest: new Uint8Array(d), ab: m.ab }, [m.ab])
    return
  }
  const d = createHash('sha256').update(new Uint8Array(m.buf, m.off, m.len)).digest()
  parentPort.postMessage({ id: m.id, digest: new Uint8Array(d) })
})
`

interface Reply {
  id: number
  digest: Uint8Array
  /** A transferred buffer coming back (digestOwned). */
  ab?: ArrayBuffer
}

interface Job {
  resolve: (reply: Reply) => void
  reject: (err: unknown) => void
  slot: Slot
}

interface Slot {
  worker: Worker
  pending: number
}

/** A few hashing workers; each holds the process open only while it has jobs. */
export class HashPool {
  readonly #slots: Slot[] = []
  readonly #jobs = new Map<number, Job>()
  #id = 0
  #next = 0

  constructor(readonly size: number) {}

  #spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.unref()
    const slot: Slot = { worker, pending: 0 }
    worker.on('message', (m: Reply) => {
      const job = this.#jobs.get(m.id)
      if (!job) return
      this.#jobs.delete(m.id)
      if (--slot.pending === 0) worker.unref()
      job.resolve(m)
    })
    const fail = (err: unknown) => {
      const i = this.#slots.indexOf(slot)
      if (i >= 0) this.#slots.splice(i, 1)
      for (const [id, job] of this.#jobs) {
        if (job.slot !== slot) continue
        this.#jobs.delete(id)
        job.reject(new HashWorkerError(err))
      }
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(`exited with code ${code}`))
    return slot
  }

  /** Stop the workers (jobs still outstanding fail with HashWorkerError). */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0)
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }

  /** sha256 of `len` bytes at `off` in `buf`; the caller must not change them until this resolves. */
  async digest(buf: SharedArrayBuffer, off: number, len: number): Promise<Uint8Array> {
    return (await this.#post({ buf, off, len })).digest
  }

  /**
   * sha256 of bytes the caller hands over: their buffer moves to the worker and back (no copy when the
   * view spans its whole, unshared ArrayBuffer; otherwise one copy first). Use the returned bytes after.
   */
  async digestOwned(bytes: Uint8Array): Promise<{ digest: Uint8Array; bytes: Uint8Array }> {
    const whole =
      bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    const ab = whole ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer)
    const reply = await this.#post({ ab }, [ab])
    return { digest: reply.digest, bytes: new Uint8Array(reply.ab!) }
  }

  #post(msg: object, transfer: ArrayBuffer[] = []): Promise<Reply> {
    // least-loaded worker, starting new ones up to `size`
    let slot = this.#slots.find((s) => s.pending === 0)
    if (!slot && this.#slots.length < this.size) {
      slot = this.#spawn()
      this.#slots.push(slot)
    }
    slot ??= this.#slots[this.#next++ % this.#slots.length]
    const id = this.#id++
    const chosen = slot
    return new Promise<Reply>((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject, slot: chosen })
      if (chosen.pending++ === 0) chosen.worker.ref()
      chosen.worker.postMessage({ id, ...msg }, transfer)
    })
  }
}

let shared: HashPool | undefined

/**
 * The process's pool: LATTICE_HASH_WORKERS workers, else one fewer than the cores (at least one, at most
 * four: the main thread reads and writes meanwhile, and one worker already outruns a disk-backed read).
 */
export function sharedHashPool(): HashPool {
  const fromEnv = Number(process.env.LATTICE_HASH_WORKERS)
  shared ??= new HashPool(
    Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.max(1, Math.min(4, availableParallelism() - 1)),
  )
  return shared
}
