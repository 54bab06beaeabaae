import type { BatchDBOp, DB, DBObject, EncodingOpts } from '@ethereumjs/util'
import type { AbstractSublevel } from 'abstract-level'
import { Level } from 'level'
import { ABSENT, cacheKey, ReadCache } from './db-cache.ts'

type Key = Uint8Array | string | number
type Value = Uint8Array | string | DBObject
type Sub = AbstractSublevel<Level<string, string>, string | Uint8Array, any, any>

function encodings(opts?: EncodingOpts) {
  const map = (e: string | undefined, def: string) =>
    e === undefined ? def : e === 'view' ? 'view' : e === 'json' ? 'json' : 'utf8'
  return { keyEncoding: map(opts?.keyEncoding, 'view'), valueEncoding: map(opts?.valueEncoding, 'view') }
}

/**
 * ethereumjs' `DB` interface over a Level sublevel (level 10 returns `undefined` for missing keys).
 * With a {@link ReadCache}, byte values are written through it and reads of keys it does not hold go
 * through `getSync`; copies share the cache, as they share the database.
 */
export class LevelDB implements DB<Key, Value> {
  constructor(
    readonly sub: Sub,
    readonly cache?: ReadCache,
  ) {}

  async get(key: Key, opts?: EncodingOpts): Promise<Value | undefined> {
    const enc = encodings(opts)
    const ck = this.cache && enc.valueEncoding === 'view' ? cacheKey(key, enc.keyEncoding) : undefined
    if (ck === undefined) return (await this.sub.get(key as any, enc as any)) ?? undefined
    const hit = this.cache!.lookup(ck)
    if (hit !== undefined) return hit === ABSENT ? undefined : hit
    // getSync needs an open database (a sublevel made on an open one opens a tick later); unfilled then
    if (this.sub.status !== 'open') return (await this.sub.get(key as any, enc as any)) ?? undefined
    // synchronous, so no write of this key can land between the read and the fill
    const value = (this.sub.getSync(key as any, enc as any) ?? undefined) as Uint8Array | undefined
    this.cache!.fill(ck, value ?? ABSENT)
    return value
  }
  async put(key: Key, val: Value, opts?: EncodingOpts): Promise<void> {
    const enc = encodings(opts)
    const done = this.track(key, enc, val)
    await this.sub.put(key as any, val as any, enc as any).catch(this.failed)
    done()
  }
  async del(key: Key, opts?: EncodingOpts): Promise<void> {
    const enc = encodings(opts)
    const done = this.track(key, enc, ABSENT)
    await this.sub.del(key as any, enc as any).catch(this.failed)
    done()
  }
  async batch(ops: BatchDBOp<Key, Value>[]): Promise<void> {
    if (ops.length === 0) return
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
    return new LevelDB(this.sub, this.cache)
  }
  async open(): Promise<void> {
    await this.sub.open()
  }

  // a write LevelDB refused may or may not have landed: the cache cannot say which, so it starts over
  private readonly failed = (err: unknown): never => {
    this.cache?.clear()
    throw err
  }

  /** Tell the cache a write starts; returns what to call once LevelDB has it. */
  private track(key: Key, enc: ReturnType<typeof encodings>, val: Value | typeof ABSENT): () => void {
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

/** Byte budget of the state database's read cache (trie nodes of a few hundred bytes each). */
export const STATE_CACHE_BYTES = 64 * 1024 * 1024

/** The node's databases: one LevelDB under `<datadir>/chaindata`, split into sublevels. */
export interface ChainDatabases {
  root: Level<string, string>
  blocks: LevelDB
  state: LevelDB
  /** receipts, tx lookups, chain metadata written by Lattice itself */
  meta: Sub
  close(): Promise<void>
}

/** Open (creating if needed) the chain databases in `dir`. */
export async function openChainDatabases(dir: string): Promise<ChainDatabases> {
  const root = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  await root.open()
  const sub = (name: string) =>
    root.sublevel<string | Uint8Array, any>(name, { keyEncoding: 'view', valueEncoding: 'view' }) as Sub
  return {
    root,
    blocks: new LevelDB(sub('b')),
    state: new LevelDB(sub('s'), new ReadCache(STATE_CACHE_BYTES)),
    meta: sub('m'),
    close: () => root.close(),
  }
}
