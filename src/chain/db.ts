import type { BatchDBOp, DB, DBObject, EncodingOpts } from '@ethereumjs/util'
import type { AbstractSublevel } from 'abstract-level'
import { Level } from 'level'
import { ABSENT, cacheKey, ReadCache } from './db-cache.ts'
import { decodeValue, encodeValue, GroupCommit } from './group-commit.ts'

type Key = Uint8Array | string | number
type Value = Uint8Array | string | DBObject
type Sub = AbstractSublevel<Level<string, string>, string | Uint8Array, any, any>
type Enc = ReturnType<typeof encodings>

function encodings(opts?: EncodingOpts) {
  const map = (e: string | undefined, def: string) =>
    e === undefined ? def : e === 'view' ? 'view' : e === 'json' ? 'json' : 'utf8'
  return { keyEncoding: map(opts?.keyEncoding, 'view'), valueEncoding: map(opts?.valueEncoding, 'view') }
}

/**
 * ethereumjs' `DB` interface over a Level sublevel (level 10 returns `undefined` for missing keys).
 * With a {@link ReadCache}, byte values are written through it and reads of keys it does not hold go
 * through `getSync`; copies share the cache, as they share the database. With a {@link GroupCommit}, writes are
 * staged there (write-back) and reads look there first; `pointer` writes wait for a flush (group-commit.ts).
 */
export class LevelDB implements DB<Key, Value> {
  constructor(
    readonly sub: Sub,
    readonly cache?: ReadCache,
    readonly group?: GroupCommit,
    readonly pointer = false,
  ) {}

  async get(key: Key, opts?: EncodingOpts): Promise<Value | undefined> {
    const enc = encodings(opts)
    if (this.group) {
      const gk = cacheKey(key, enc.keyEncoding)
      const staged = gk === undefined ? undefined : this.group.lookup(this.sub, gk)
      if (staged !== undefined) return staged === ABSENT ? undefined : (decodeValue(staged, enc.valueEncoding) as Value)
    }
    const ck = this.cache ? cacheKey(key, enc.keyEncoding) : undefined
    if (ck === undefined) return (await this.sub.get(key as any, enc as any)) ?? undefined
    // the cache holds stored bytes, read back in the encoding asked for (json and utf8 values of the meta sublevel)
    const hit = this.cache!.lookup(ck)
    if (hit !== undefined) return hit === ABSENT ? undefined : (decodeValue(hit, enc.valueEncoding) as Value)
    // getSync needs an open database (a sublevel made on an open one opens a tick later); unfilled then
    if (this.sub.status !== 'open') return (await this.sub.get(key as any, enc as any)) ?? undefined
    // synchronous, so no write of this key can land between the read and the fill
    const raw = this.sub.getSync(key as any, { keyEncoding: enc.keyEncoding, valueEncoding: 'view' } as any) as
      | Uint8Array
      | undefined
    this.cache!.fill(ck, raw ?? ABSENT)
    return raw === undefined ? undefined : (decodeValue(raw, enc.valueEncoding) as Value)
  }
  async put(key: Key, val: Value, opts?: EncodingOpts): Promise<void> {
    const enc = encodings(opts)
    if (this.group) return this.stage([{ key, value: val, enc }])
    const done = this.track(key, enc, val)
    await this.sub.put(key as any, val as any, enc as any).catch(this.failed)
    done()
  }
  async del(key: Key, opts?: EncodingOpts): Promise<void> {
    const enc = encodings(opts)
    if (this.group) return this.stage([{ key, value: ABSENT, enc }])
    const done = this.track(key, enc, ABSENT)
    await this.sub.del(key as any, enc as any).catch(this.failed)
    done()
  }
  async batch(ops: BatchDBOp<Key, Value>[]): Promise<void> {
    if (ops.length === 0) return
    if (this.group) {
      return this.stage(
        ops.map((op) => ({ key: op.key, value: op.type === 'put' ? op.value : ABSENT, enc: encodings(op.opts) })),
      )
    }
    const dones = ops.map((op) => this.track(op.key, encodings(op.opts), op.type === 'put' ? op.value : ABSENT))
    await this.sub
      .batch(
        ops.map((op) =>
          op.type === 'put'
            ? { type: 'put', key: op.key, value: op.value, ...encodings(op.opts) }
            : { type: 'del', key: op.key, ...encodings(op.opts) },
        ) as any,
      )
      .catch(this.failed)
    for (const done of dones) done()
  }
  shallowCopy(): DB<Key, Value> {
    return new LevelDB(this.sub, this.cache, this.group, this.pointer)
  }
  async open(): Promise<void> {
    await this.sub.open()
  }

  /** Write-back: stage the writes in the group commit (keys it cannot name go to LevelDB after a flush). */
  private async stage(ops: { key: Key; value: Value | typeof ABSENT; enc: Enc }[]): Promise<void> {
    const group = this.group!
    const entries: [string, Uint8Array | typeof ABSENT][] = []
    for (const op of ops) {
      const gk = cacheKey(op.key, op.enc.keyEncoding)
      if (gk === undefined) {
        // a number key or another encoding: no write-back for it, and earlier writes land before it
        await group.flush()
        this.cache?.clear()
        if (op.value === ABSENT) await this.sub.del(op.key as any, op.enc as any)
        else await this.sub.put(op.key as any, op.value as any, op.enc as any)
        continue
      }
      entries.push([gk, op.value === ABSENT ? ABSENT : encodeValue(op.value, op.enc.valueEncoding)])
    }
    if (entries.length > 0) await group.write(this.sub, entries, this.pointer)
  }

  // a write LevelDB refused may or may not have landed: the cache cannot say which, so it starts over
  private readonly failed = (err: unknown): never => {
    this.cache?.clear()
    throw err
  }

  /** Tell the cache a write starts; returns what to call once LevelDB has it. */
  private track(key: Key, enc: Enc, val: Value | typeof ABSENT): () => void {
    const cache = this.cache
    if (!cache) return noop
    const ck = cacheKey(key, enc.keyEncoding)
    if (ck === undefined) {
      // a key the cache cannot name could alias one it holds
      cache.clear()
      return noop
    }
    if (val === ABSENT || (val instanceof Uint8Array && enc.valueEncoding === 'view')) return cache.write(ck, val)
    cache.forget(ck)
    return noop
  }
}

const noop = () => {}

/** A level-style operation on the meta sublevel (per-op encodings, as `AbstractLevel.batch` takes them). */
export interface MetaOp {
  type: 'put' | 'del'
  key: Key
  value?: unknown
  keyEncoding?: string
  valueEncoding?: string
}

/**
 * The meta sublevel (receipts, lookups, index, tags) with level's calling conventions (`get(key, { keyEncoding,
 * valueEncoding })`, level-style batch ops, iterators) over the write-back {@link LevelDB}.
 */
export class MetaStore {
  private readonly db: LevelDB

  constructor(
    readonly sub: Sub,
    readonly group: GroupCommit,
    cache?: ReadCache,
  ) {
    this.db = new LevelDB(sub, cache, group, true)
  }

  get(key: Key, opts?: EncodingOpts): Promise<any> {
    return this.db.get(key, opts)
  }
  put(key: Key, value: unknown, opts?: EncodingOpts): Promise<void> {
    return this.db.put(key, value as Value, opts)
  }
  del(key: Key, opts?: EncodingOpts): Promise<void> {
    return this.db.del(key, opts)
  }
  batch(ops: MetaOp[]): Promise<void> {
    return this.db.batch(
      ops.map((o) => {
        const opts = { keyEncoding: o.keyEncoding, valueEncoding: o.valueEncoding } as EncodingOpts
        return o.type === 'put'
          ? { type: 'put' as const, key: o.key, value: o.value as Value, opts }
          : { type: 'del' as const, key: o.key, opts }
      }),
    )
  }

  /** A level iterator over the sublevel, opened after a flush so that staged writes are in it. */
  iterator(opts: any): AsyncIterableIterator<[any, any]> & { close(): Promise<void> } {
    const { sub, group } = this
    const gen = (async function* () {
      await group.flush()
      const it = sub.iterator(opts)
      try {
        for await (const entry of it) yield entry as [unknown, unknown]
      } finally {
        await it.close()
      }
    })()
    return Object.assign(gen, {
      close: async () => {
        await gen.return(undefined)
      },
    })
  }
}

/** Byte budget of the state database's read cache (trie nodes of a few hundred bytes each). */
export const STATE_CACHE_BYTES = 64 * 1024 * 1024
/**
 * Byte budget of the block and meta sublevels' read caches each. A block's commit read ~5 keys of them back
 * through LevelDB's async path (inference records of the parent three times, the canonical index past the head,
 * header lookups), each a libuv threadpool round trip; recent blocks and receipts are what RPC reads most too.
 */
export const CHAIN_CACHE_BYTES = 16 * 1024 * 1024

/** The node's databases: one LevelDB under `<datadir>/chaindata`, split into sublevels. */
export interface ChainDatabases {
  root: Level<string, string>
  blocks: LevelDB
  state: LevelDB
  /** receipts, tx lookups, chain metadata written by Lattice itself */
  meta: MetaStore
  /** Where writes to all three wait for their batch (group-commit.ts). */
  group: GroupCommit
  /** Flush what is staged, then close. */
  close(): Promise<void>
}

/** Open (creating if needed) the chain databases in `dir`. */
export async function openChainDatabases(dir: string): Promise<ChainDatabases> {
  const root = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  await root.open()
  const sub = (name: string) =>
    root.sublevel<string | Uint8Array, any>(name, { keyEncoding: 'view', valueEncoding: 'view' }) as Sub
  const group = new GroupCommit(root)
  const state = new LevelDB(sub('s'), new ReadCache(STATE_CACHE_BYTES), group)
  group.attachCache(state.sub, state.cache!)
  const blocks = new LevelDB(sub('b'), new ReadCache(CHAIN_CACHE_BYTES), group, true)
  group.attachCache(blocks.sub, blocks.cache!)
  const metaCache = new ReadCache(CHAIN_CACHE_BYTES)
  const meta = new MetaStore(sub('m'), group, metaCache)
  group.attachCache(meta.sub, metaCache)
  return {
    root,
    blocks,
    state,
    meta,
    group,
    close: async () => {
      await group.flush({ sync: true })
      await root.close()
    },
  }
}
