import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { bytesToHex, type DB, randomBytes, ValueEncoding } from '@ethereumjs/util'
import { afterEach, describe, expect, it } from 'vitest'
import { type ChainDatabases, LevelDB, openChainDatabases } from '../../src/chain/db.ts'
import { ABSENT, cacheKey, ReadCache } from '../../src/chain/db-cache.ts'

const dirs: string[] = []
const open: ChainDatabases[] = []
afterEach(async () => {
  for (const d of open.splice(0)) await d.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
async function databases(): Promise<ChainDatabases> {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-db-cache-'))
  dirs.push(dir)
  const dbs = await openChainDatabases(dir)
  open.push(dbs)
  return dbs
}
const str = { keyEncoding: 'string', valueEncoding: 'view' } as const
// LevelDB hands back Buffers, a write-through hit the Uint8Array that was written: compare bytes
const hex = (v: unknown) => (v instanceof Uint8Array ? bytesToHex(v) : v)

describe('ReadCache', () => {
  it('stays within its byte budget, evicting the least recently used', () => {
    const c = new ReadCache(10_000)
    for (let i = 0; i < 1000; i++) c.write(`k${i}`, new Uint8Array(100))()
    expect(c.stats.bytes).toBeLessThanOrEqual(10_000)
    expect(c.stats.evictions).toBeGreaterThan(900)
    expect(c.lookup('k999')).toBeInstanceOf(Uint8Array)
    expect(c.lookup('k0')).toBeUndefined()
  })

  it('keeps negative entries and never evicts a write in flight', () => {
    // room for the entry (313 bytes with its overhead) under the quarter-of-budget limit on one entry
    const c = new ReadCache(2_000)
    c.fill('gone', ABSENT)
    expect(c.lookup('gone')).toBe(ABSENT)
    const done = c.write('inflight', new Uint8Array([7]))
    for (let i = 0; i < 100; i++) c.write(`k${i}`, new Uint8Array(50))()
    expect(c.lookup('inflight')).toEqual(new Uint8Array([7]))
    // a read that raced the write does not replace it
    c.fill('inflight', ABSENT)
    done()
    expect(c.lookup('inflight')).toEqual(new Uint8Array([7]))
  })

  it('names a string key and its utf8 bytes alike', () => {
    expect(cacheKey('ab', 'utf8')).toBe(cacheKey(new Uint8Array([0x61, 0x62]), 'view'))
    expect(cacheKey('é', 'utf8')).toBe(cacheKey(new TextEncoder().encode('é'), 'view'))
    expect(cacheKey({}, 'json')).toBeUndefined()
  })
})

describe('LevelDB with a read cache', () => {
  it('writes through: an uncached view of the same database sees every write', async () => {
    const dbs = await databases()
    const bare = new LevelDB(dbs.state.sub)
    const key = bytesToHex(randomBytes(32)).slice(2)
    expect(await dbs.state.get(key, str)).toBeUndefined() // a negative entry now
    await dbs.state.put(key, new Uint8Array([1, 2, 3]), str)
    expect(hex(await dbs.state.get(key, str))).toBe(bytesToHex(new Uint8Array([1, 2, 3])))
    await dbs.group.flush() // write-back (group-commit.ts): LevelDB has it once the group commits
    expect(hex(await bare.get(key, str))).toBe(bytesToHex(new Uint8Array([1, 2, 3])))
    await dbs.state.batch([
      { type: 'del', key, opts: str },
      { type: 'put', key: 'other', value: new Uint8Array([9]), opts: str },
    ])
    expect(await dbs.state.get(key, str)).toBeUndefined()
    await dbs.group.flush()
    expect(await bare.get(key, str)).toBeUndefined()
    expect(hex(await bare.get('other', str))).toBe(bytesToHex(new Uint8Array([9])))
  })

  it('serves repeated reads from memory and misses through getSync', async () => {
    const dbs = await databases()
    await new LevelDB(dbs.state.sub).put('k', new Uint8Array([5]), str) // behind the cache's back
    const stats = dbs.state.cache!.stats
    expect(hex(await dbs.state.get('k', str))).toBe(bytesToHex(new Uint8Array([5])))
    expect(stats.misses).toBe(1)
    for (let i = 0; i < 10; i++) await dbs.state.get('k', str)
    await dbs.state.get('missing', str)
    await dbs.state.get('missing', str)
    expect(stats.hits).toBe(10)
    expect(stats.negativeHits).toBe(1)
  })

  it('forgets a key written in another value encoding', async () => {
    const dbs = await databases()
    await dbs.state.put('j', new Uint8Array([1]), str)
    await dbs.state.put('j', '{"a":1}', { keyEncoding: 'string', valueEncoding: 'string' })
    expect(new TextDecoder().decode((await dbs.state.get('j', str)) as Uint8Array)).toBe('{"a":1}')
  })

  it('caches the block and meta sublevels too, and reads a cached value back in the encoding asked for', async () => {
    const dbs = await databases()
    const json = { keyEncoding: 'string', valueEncoding: 'json' } as const
    await dbs.meta.put('tag', { n: 7 }, json)
    await dbs.blocks.put('h', new Uint8Array([9]), str)
    await dbs.group.flush()
    // after the flush the written values are in the caches: no read reaches LevelDB
    const meta = (dbs.meta as unknown as { db: LevelDB }).db.cache!.stats
    const misses = meta.misses
    expect(await dbs.meta.get('tag', json)).toEqual({ n: 7 })
    expect(await dbs.meta.get('tag', { keyEncoding: 'string', valueEncoding: 'string' })).toBe('{"n":7}')
    expect(hex(await dbs.blocks.get('h', str))).toBe('0x09')
    expect(meta.misses).toBe(misses)
    expect(meta.hits).toBe(2)
    expect(dbs.blocks.cache!.stats.hits).toBe(1)
    // a miss is read once, as bytes, and served in either encoding afterwards
    await new LevelDB(dbs.meta.sub).put('raw', new TextEncoder().encode('[1,2]'), str) // behind the cache's back
    expect(await dbs.meta.get('raw', json)).toEqual([1, 2])
    expect(hex(await dbs.meta.get('raw', str))).toBe(bytesToHex(new TextEncoder().encode('[1,2]')))
    expect(await dbs.meta.get('nothing', json)).toBeUndefined()
    expect(await dbs.meta.get('nothing', json)).toBeUndefined()
    expect(meta.negativeHits).toBe(1)
  })
  it('is per database: two chains in one process do not share entries', async () => {
    const a = await databases()
    const b = await databases()
    expect(a.state.cache).not.toBe(b.state.cache)
    await a.state.put('k', new Uint8Array([1]), str)
    expect(await b.state.get('k', str)).toBeUndefined()
    expect((a.state.shallowCopy() as LevelDB).cache).toBe(a.state.cache)
  })

  it('gives a trie the same roots as an uncached database, and a fresh trie at that root the same values', async () => {
    const dbs = await databases()
    const bareDbs = await databases()
    const trie = (db: LevelDB) =>
      new MerklePatriciaTrie({
        db: db as unknown as DB<string, string | Uint8Array>,
        useKeyHashing: true,
        valueEncoding: ValueEncoding.Bytes,
      })
    const cached = trie(dbs.state)
    const bare = trie(new LevelDB(bareDbs.state.sub))
    const keys: Uint8Array[] = []
    for (let i = 0; i < 300; i++) {
      const k = i % 3 === 0 && keys.length > 0 ? keys[i % keys.length] : randomBytes(20)
      keys.push(k)
      const v = i % 7 === 0 ? new Uint8Array() : randomBytes(1 + (i % 90))
      for (const t of [cached, bare]) {
        if (v.length === 0) await t.del(k)
        else await t.put(k, v)
      }
    }
    expect(bytesToHex(cached.root())).toBe(bytesToHex(bare.root()))
    // a fresh trie at that root over the same (cached) database reads every value back, once the staged nodes
    // have landed (group-commit.ts fills the cache with them)
    await dbs.group.flush()
    const again = trie(dbs.state)
    again.root(cached.root())
    for (const k of keys) expect(hex(await again.get(k))).toEqual(hex(await bare.get(k)))
    expect(dbs.state.cache!.stats.hits + dbs.state.cache!.stats.negativeHits).toBeGreaterThan(0)
  })
})
