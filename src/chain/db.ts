import type { BatchDBOp, DB, DBObject, EncodingOpts } from '@ethereumjs/util'
import type { AbstractSublevel } from 'abstract-level'
import { Level } from 'level'

type Key = Uint8Array | string | number
type Value = Uint8Array | string | DBObject
type Sub = AbstractSublevel<Level<string, string>, string | Uint8Array, any, any>

function encodings(opts?: EncodingOpts) {
  const map = (e: string | undefined, def: string) =>
    e === undefined ? def : e === 'view' ? 'view' : e === 'json' ? 'json' : 'utf8'
  return { keyEncoding: map(opts?.keyEncoding, 'view'), valueEncoding: map(opts?.valueEncoding, 'view') }
}

/** ethereumjs' `DB` interface over a Level sublevel (level 10 returns `undefined` for missing keys). */
export class LevelDB implements DB<Key, Value> {
  constructor(readonly sub: Sub) {}

  async get(key: Key, opts?: EncodingOpts): Promise<Value | undefined> {
    return (await this.sub.get(key as any, encodings(opts) as any)) ?? undefined
  }
  async put(key: Key, val: Value, opts?: EncodingOpts): Promise<void> {
    await this.sub.put(key as any, val as any, encodings(opts) as any)
  }
  async del(key: Key, opts?: EncodingOpts): Promise<void> {
    await this.sub.del(key as any, encodings(opts) as any)
  }
  async batch(ops: BatchDBOp<Key, Value>[]): Promise<void> {
    if (ops.length === 0) return
    await this.sub.batch(
      ops.map((op) =>
        op.type === 'put'
          ? { type: 'put', key: op.key, value: op.value, ...encodings(op.opts) }
          : { type: 'del', key: op.key, ...encodings(op.opts) },
      ) as any,
    )
  }
  shallowCopy(): DB<Key, Value> {
    return new LevelDB(this.sub)
  }
  async open(): Promise<void> {
    await this.sub.open()
  }
}

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
    state: new LevelDB(sub('s')),
    meta: sub('m'),
    close: () => root.close(),
  }
}
