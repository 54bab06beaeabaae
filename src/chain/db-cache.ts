// A bounded write-through read cache for one LevelDB sublevel, with negative entries.
//
// Why: the trie's own node cache is not filled by its batch writes, and storage tries have none, so a
// block read about 48 nodes written by the block before it through LevelDB's async path (~40 µs each on
// the libuv threadpool). Values written here are served from memory, and misses go through `getSync`
// (~4.5 µs); a key known to be absent (a negative entry) costs nothing.
//
// Consistency: a write enters `pending` synchronously, before LevelDB has it, and leaves only once
// LevelDB acknowledged it; `pending` is never evicted. So a read never falls through to LevelDB while a
// newer write of the same key is still in flight, and a synchronous read cannot interleave with a write.

/** A key known to be absent from the database. */
export const ABSENT: unique symbol = Symbol('absent')
type Entry = Uint8Array | typeof ABSENT

/** Hits, misses and size of a {@link ReadCache}, for measurement. */
export interface ReadCacheStats {
  hits: number
  negativeHits: number
  misses: number
  entries: number
  bytes: number
  evictions: number
}

// what an entry really holds besides its key's and value's bytes, measured with heap snapshots and
// test/chain/db-cache-memory.test.ts (issue 15): a Map slot with its share of the table and of the
// tombstones LRU churn leaves, and the key string's header; a value adds its Uint8Array and ArrayBuffer
// objects and its backing store's allocation. Counting only 64 let a 64 MiB cache hold ~110 MiB.
const ENTRY_OVERHEAD = 128
const VALUE_OVERHEAD = 176

/** LRU of raw values by canonical key (the stored key bytes as a latin1 string), bounded in bytes. */
export class ReadCache {
  private readonly lru = new Map<string, Entry>()
  // in-flight writes, newest value per key, with how many writes of that key are in flight
  private readonly pending = new Map<string, { value: Entry; inFlight: number }>()
  private bytes = 0
  readonly stats: ReadCacheStats = { hits: 0, negativeHits: 0, misses: 0, entries: 0, bytes: 0, evictions: 0 }

  constructor(readonly maxBytes: number) {}

  /** The cached value, ABSENT when known to be missing, or undefined when not cached. */
  lookup(key: string): Entry | undefined {
    const p = this.pending.get(key)
    const v = p ? p.value : this.lru.get(key)
    if (v === undefined) {
      this.stats.misses++
      return undefined
    }
    if (!p) {
      // refresh recency
      this.lru.delete(key)
      this.lru.set(key, v)
    }
    if (v === ABSENT) this.stats.negativeHits++
    else this.stats.hits++
    return v
  }

  /** Remember what a read of the database returned (only call with a value read synchronously). */
  fill(key: string, value: Entry): void {
    if (this.pending.has(key)) return
    this.set(key, value)
  }

  /** A write of `value` (ABSENT for a delete) starts; call the returned function once LevelDB has it. */
  write(key: string, value: Entry): () => void {
    const p = this.pending.get(key)
    if (p) {
      p.value = value
      p.inFlight++
    } else this.pending.set(key, { value, inFlight: 1 })
    return () => {
      const q = this.pending.get(key)
      if (!q) return
      if (--q.inFlight === 0) {
        this.pending.delete(key)
        this.set(key, q.value)
      }
    }
  }

  /** A write whose value this cache cannot represent (another encoding): forget the key. */
  forget(key: string): void {
    this.pending.delete(key)
    this.remove(key)
  }

  /** Forget everything (a write this cache could not key). */
  clear(): void {
    this.lru.clear()
    this.pending.clear()
    this.bytes = 0
    this.sync()
  }

  private set(key: string, entry: Entry): void {
    this.remove(key)
    const value = entry === ABSENT ? entry : compact(entry)
    const size = cost(key, value)
    if (size > this.maxBytes / 4) return
    this.lru.set(key, value)
    this.bytes += size
    while (this.bytes > this.maxBytes) {
      const oldest = this.lru.keys().next().value as string
      this.remove(oldest)
      this.stats.evictions++
    }
    this.sync()
  }

  private remove(key: string): void {
    const old = this.lru.get(key)
    if (old === undefined) return
    this.lru.delete(key)
    this.bytes -= cost(key, old)
    this.sync()
  }

  private sync(): void {
    this.stats.entries = this.lru.size
    this.stats.bytes = this.bytes
  }
}

/**
 * `v` in an ArrayBuffer of its own. A value that is a view into a larger buffer would keep all of it alive while
 * being charged only its own bytes: level encodes small utf8/json values with Buffer.from, a view into Node's
 * shared 8 KiB pool, so each cached meta value of ~100 bytes could pin a whole 8 KiB slab (issue 15: the meta
 * cache held ~35 MiB for its 16 MiB budget at soak block 7,000 and grew ~8 KiB a block).
 */
function compact(v: Uint8Array): Uint8Array {
  if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) return v
  // not Buffer.from / Buffer.allocUnsafe: below 4 KiB they take from that same pool
  const copy = Buffer.isBuffer(v) ? Buffer.allocUnsafeSlow(v.byteLength) : new Uint8Array(v.byteLength)
  copy.set(v)
  return copy
}

function cost(key: string, value: Entry): number {
  return ENTRY_OVERHEAD + key.length + (value === ABSENT ? 0 : VALUE_OVERHEAD + value.byteLength)
}

/**
 * The canonical cache key of a database key: its stored bytes as a latin1 string, so that the string
 * 'ab' (utf8) and the bytes [0x61, 0x62] are one entry, as they are one key in LevelDB. Undefined for
 * keys this cache does not handle.
 */
export function cacheKey(key: unknown, keyEncoding: string): string | undefined {
  if (typeof key === 'string') {
    // level's 'view' encoding stores a string key as its utf8 bytes too
    if (keyEncoding !== 'utf8' && keyEncoding !== 'view') return undefined
    // ASCII (hex trie keys) maps to itself; anything else through its utf8 bytes
    for (let i = 0; i < key.length; i++) {
      if (key.charCodeAt(i) > 0x7f) return Buffer.from(key, 'utf8').toString('latin1')
    }
    return key
  }
  if (key instanceof Uint8Array && keyEncoding === 'view') {
    return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
  }
  return undefined
}
