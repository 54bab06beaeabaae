// Write-back group commit for the chain databases: every write to the state, block and meta sublevels is staged in
// memory (in its stored bytes) and reaches LevelDB in one batch over all three, either when a writer needs it
// durable or at the next group commit (wal-commit.ts, every ~200 ms). Readers see staged and in-flight writes first.
//
// Why: a block's ~30 trie nodes, its block records and its receipts went to LevelDB as four or five batches, each
// prepared natively and handed to the threadpool; one batch per ~200 ms costs a fraction of that.
//
// Durability: state writes (content-addressed trie nodes) never force a flush: nothing durable points at them until
// a later flush, which carries them. A write to the block or meta sublevel is a pointer (a head, a receipt): it
// waits for a flush of everything staged up to it, as before, unless it is made while `deferred` runs (the commit of
// an automined block whose RLP the write-ahead log already holds). Deferral is a window in time, not an async
// context: that commit runs under the chain lock, as every writer of blocks and meta in the node does but an RPC
// attestation, which, made in that window, waits for the group commit like the block (it can be signed again).
// (An AsyncLocalStorage context would be exact, but on Node 20 it turns on promise hooks for the whole process,
// for every block; a counter costs nothing.)
import type { AbstractSublevel } from 'abstract-level'
import type { Level } from 'level'
import type { ReadCache } from './db-cache.ts'
import { ABSENT } from './db-cache.ts'

type Sub = AbstractSublevel<Level<string, string>, string | Uint8Array, any, any>
type Entry = Uint8Array | typeof ABSENT
/** Staged writes of one flush: per sublevel, stored key (latin1 string of its bytes) → stored value bytes. */
type Batch = Map<Sub, Map<string, Entry>>

/** Flushes and what they carried, for measurement. */
export interface GroupCommitStats {
  flushes: number
  entries: number
  /** Flushes a pointer write outside a deferred section asked for. */
  forced: number
  flushMs: number
}

/** The staging area of one database (per ChainDatabases: no module state). */
export class GroupCommit {
  readonly stats: GroupCommitStats = { flushes: 0, entries: 0, forced: 0, flushMs: 0 }
  private staged: Batch = new Map()
  private stagedCount = 0
  // detached batches not yet in LevelDB, oldest first; readers look newest first
  private readonly inFlight: Batch[] = []
  private tail: Promise<void> = Promise.resolve()
  private readonly caches = new Map<Sub, ReadCache>()
  private deferring = 0

  constructor(private readonly root: Level<string, string>) {}

  /** Fill `cache` with the writes to `sub` once they reach LevelDB (the read cache of the state sublevel). */
  attachCache(sub: Sub, cache: ReadCache): void {
    this.caches.set(sub, cache)
  }

  /** Number of staged writes not yet handed to a flush. */
  get pending(): number {
    return this.stagedCount
  }

  /** The staged or in-flight value of `key` in `sub`: bytes, ABSENT for a delete, undefined when none. */
  lookup(sub: Sub, key: string): Entry | undefined {
    const v = this.staged.get(sub)?.get(key)
    if (v !== undefined) return v
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const w = this.inFlight[i].get(sub)?.get(key)
      if (w !== undefined) return w
    }
    return undefined
  }

  /**
   * Stage writes to `sub`; a `pointer` write (block and meta sublevels) then waits until they are in LevelDB,
   * unless it runs inside {@link deferred}.
   */
  async write(sub: Sub, entries: [string, Entry][], pointer: boolean): Promise<void> {
    let m = this.staged.get(sub)
    if (!m) {
      m = new Map()
      this.staged.set(sub, m)
    }
    for (const [k, v] of entries) {
      // a key staged again keeps its place; the batch is atomic, so order between keys does not matter
      if (!m.has(k)) this.stagedCount++
      m.set(k, v)
    }
    if (pointer && this.deferring === 0) {
      this.stats.forced++
      await this.flush()
    }
  }

  /** Run `fn`, leaving pointer writes made meanwhile staged for the next group commit (the block is in the log). */
  async deferred<T>(fn: () => Promise<T>): Promise<T> {
    this.deferring++
    try {
      return await fn()
    } finally {
      this.deferring--
    }
  }

  /**
   * Hand everything staged so far to LevelDB in one batch, after any earlier flush; resolves once it is there.
   * The batch is detached synchronously, so the flushes land in the order they were called.
   */
  flush(opts: { sync?: boolean } = {}): Promise<void> {
    const batch = this.staged
    const count = this.stagedCount
    this.staged = new Map()
    this.stagedCount = 0
    if (count > 0) this.inFlight.push(batch)
    const run = this.tail.then(() => (count > 0 ? this.land(batch, count, opts.sync === true) : undefined))
    this.tail = run.catch(() => {})
    return run
  }

  private async land(batch: Batch, count: number, sync: boolean): Promise<void> {
    const ops: object[] = []
    for (const [sublevel, m] of batch) {
      for (const [k, v] of m) {
        const key = Buffer.from(k, 'latin1')
        ops.push(
          v === ABSENT
            ? { type: 'del', sublevel, key, keyEncoding: 'view' }
            : { type: 'put', sublevel, key, value: v, keyEncoding: 'view', valueEncoding: 'view' },
        )
      }
    }
    const t = performance.now()
    try {
      await this.root.batch(ops as never, { sync })
    } catch (err) {
      // not in LevelDB: back under whatever was staged since (newer writes win), for the next flush
      this.unflight(batch)
      for (const [sub, m] of batch) {
        let s = this.staged.get(sub)
        if (!s) {
          s = new Map()
          this.staged.set(sub, s)
        }
        for (const [k, v] of m) {
          if (!s.has(k)) {
            s.set(k, v)
            this.stagedCount++
          }
        }
      }
      throw err
    }
    this.stats.flushes++
    this.stats.entries += count
    this.stats.flushMs += performance.now() - t
    this.unflight(batch)
    for (const [sub, m] of batch) {
      const cache = this.caches.get(sub)
      if (!cache) continue
      for (const [k, v] of m) {
        // a newer write of the key is still staged or in flight: the read path serves it, and it fills later
        if (this.lookup(sub, k) === undefined) cache.fill(k, v)
      }
    }
  }

  private unflight(batch: Batch): void {
    const i = this.inFlight.indexOf(batch)
    if (i >= 0) this.inFlight.splice(i, 1)
  }
}

/** A value in the form level would store it with `encoding` ('view', 'utf8' or 'json'). */
export function encodeValue(value: unknown, encoding: string): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify(value), 'utf8')
  if (value instanceof Uint8Array) return value
  return Buffer.from(String(value), 'utf8')
}

/** Stored bytes read back with `encoding`, as level would return them. */
export function decodeValue(bytes: Uint8Array, encoding: string): unknown {
  if (encoding === 'view') return bytes
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  return encoding === 'json' ? JSON.parse(text) : text
}
