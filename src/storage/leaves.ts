// A source cut into 256 KiB leaves, each with its sha256, in order. Big inputs are read straight into
// slots of a SharedArrayBuffer and hashed on worker threads (hash-pool.ts) several leaves ahead of the
// consumer, so hashing overlaps reading and the writes of earlier leaves. Small inputs hash in place.
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { HashPool } from './hash-pool.ts'
import { CHUNK_SIZE } from './profile.ts'
import type { IoOptions } from './types.ts'

/** One leaf; `release()` once its bytes are written (they live in a reused slot until then). */
export interface Leaf {
  bytes: Uint8Array
  digest: Uint8Array
  release(): void
}

/** Leaves hashed ahead of the consumer (one more is read while the oldest is written). */
const AHEAD = 16

/** Leaves of already-chunked input hashed on this thread (small inputs: no slot copy, no worker hop). */
export async function* mainThreadLeaves(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Leaf> {
  const noop = () => {}
  for await (const bytes of cutLeaves(chunks)) {
    yield { bytes, digest: createHash('sha256').update(bytes).digest(), release: noop }
  }
}

/** Cut chunks into CHUNK_SIZE pieces (whole pieces are views of the source buffers, no copy). */
async function* cutLeaves(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let pending: Buffer | undefined
  let fill = 0
  for await (const c of chunks) {
    let off = 0
    if (fill > 0) {
      const n = Math.min(CHUNK_SIZE - fill, c.byteLength)
      pending!.set(c.subarray(0, n), fill)
      fill += n
      off = n
      if (fill === CHUNK_SIZE) {
        yield pending!
        pending = undefined
        fill = 0
      }
    }
    while (c.byteLength - off >= CHUNK_SIZE) {
      yield c.subarray(off, off + CHUNK_SIZE)
      off += CHUNK_SIZE
    }
    if (off < c.byteLength) {
      pending = Buffer.allocUnsafe(CHUNK_SIZE)
      pending.set(c.subarray(off), 0)
      fill = c.byteLength - off
    }
  }
  if (fill > 0) yield pending!.subarray(0, fill)
}

/** A fixed set of CHUNK_SIZE slots in one SharedArrayBuffer; take() waits when all are out (also export.ts). */
export class Slots {
  readonly buf: SharedArrayBuffer
  readonly #free: number[] = []
  readonly #waiting: ((i: number) => void)[] = []

  constructor(count: number) {
    this.buf = new SharedArrayBuffer(count * CHUNK_SIZE)
    for (let i = count - 1; i >= 0; i--) this.#free.push(i)
  }

  async take(): Promise<number> {
    const i = this.#free.pop()
    if (i !== undefined) return i
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  give(i: number): void {
    const w = this.#waiting.shift()
    if (w) w(i)
    else this.#free.push(i)
  }

  view(i: number, len = CHUNK_SIZE): Buffer {
    return Buffer.from(this.buf, i * CHUNK_SIZE, len)
  }
}

/** Where the bytes come from: a file read positionally, or chunks copied into slots. */
export type LeafInput = { path: string } | { chunks: AsyncIterable<Uint8Array> }

/**
 * Leaves of `input` hashed by `pool`, in order. `writesInFlight` is how many yielded leaves the consumer
 * may hold unreleased; slots cover those plus the ones hashed ahead. Reports progress and honours the
 * signal per leaf for file input (chunk input is metered by its producer).
 */
export async function* pooledLeaves(
  input: LeafInput,
  pool: HashPool,
  opts: IoOptions & { writesInFlight: number; total?: number },
): AsyncGenerator<Leaf> {
  const slots = new Slots(AHEAD + opts.writesInFlight + 2)
  const queue: { slot: number; len: number; digest: Promise<Uint8Array> }[] = []
  const fill = 'path' in input ? fileFiller(input.path, slots, opts) : chunkFiller(input.chunks, slots)
  // a rejected digest that is not awaited yet must not surface as an unhandled rejection
  const guard = (p: Promise<Uint8Array>) => {
    p.catch(() => {})
    return p
  }
  let ended = false
  try {
    for (;;) {
      while (!ended && queue.length < AHEAD) {
        const slot = await slots.take()
        const len = await fill.next(slot)
        if (len === 0) {
          slots.give(slot)
          ended = true
          break
        }
        queue.push({ slot, len, digest: guard(pool.digest(slots.buf, slot * CHUNK_SIZE, len)) })
        if (len < CHUNK_SIZE) ended = true
      }
      const head = queue.shift()
      if (!head) return
      const digest = await head.digest
      let released = false
      yield {
        bytes: slots.view(head.slot, head.len),
        digest,
        release: () => {
          if (released) return
          released = true
          slots.give(head.slot)
        },
      }
    }
  } finally {
    await fill.close()
  }
}

interface Filler {
  /** Fill slot `i` with up to CHUNK_SIZE bytes; 0 at the end. Only the last leaf may be short. */
  next(i: number): Promise<number>
  close(): Promise<void>
}

function fileFiller(path: string, slots: Slots, opts: IoOptions & { total?: number }): Filler {
  let fh: Awaited<ReturnType<typeof open>> | undefined
  let pos = 0
  return {
    async next(i) {
      opts.signal?.throwIfAborted()
      if (pos === 0) opts.onProgress?.({ op: 'add', done: 0, total: opts.total })
      fh ??= await open(path, 'r')
      const view = slots.view(i)
      let got = 0
      while (got < CHUNK_SIZE) {
        const { bytesRead } = await fh.read(view, got, CHUNK_SIZE - got, pos)
        if (bytesRead === 0) break
        got += bytesRead
        pos += bytesRead
      }
      if (got > 0) opts.onProgress?.({ op: 'add', done: pos, total: opts.total })
      return got
    },
    async close() {
      await fh?.close()
    },
  }
}

function chunkFiller(chunks: AsyncIterable<Uint8Array>, slots: Slots): Filler {
  const it = chunks[Symbol.asyncIterator]()
  let rest: Uint8Array | undefined
  let done = false
  return {
    async next(i) {
      const view = slots.view(i)
      let got = 0
      while (got < CHUNK_SIZE) {
        if (!rest || rest.byteLength === 0) {
          if (done) break
          const r = await it.next()
          if (r.done) {
            done = true
            break
          }
          rest = r.value
          continue
        }
        const n = Math.min(CHUNK_SIZE - got, rest.byteLength)
        view.set(rest.subarray(0, n), got)
        rest = rest.subarray(n)
        got += n
      }
      return got
    },
    async close() {
      if (!done) await it.return?.()
    },
  }
}
