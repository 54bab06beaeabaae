// patches/ethereumjs-mpt-*-commit-cache.patch: the final checkpoint commit of a trie wrote its nodes to the database
// without putting them in the node cache (put() outside a checkpoint does), so the nodes a block wrote were read
// back from the database in the next block; and it turned every hex key into bytes and back.
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { bytesToHex, MapDB, utf8ToBytes, ValueEncoding } from '@ethereumjs/util'
import { describe, expect, it, vi } from 'vitest'

const entries = Array.from({ length: 40 }, (_, i) => [utf8ToBytes(`key-${i}`), utf8ToBytes(`value-${i}`.repeat(3))])

async function committed(cacheSize: number, valueEncoding: ValueEncoding) {
  const db = new MapDB<string, string | Uint8Array>()
  const trie = new MerklePatriciaTrie({ db, cacheSize, valueEncoding, useKeyHashing: true })
  trie.checkpoint()
  for (const [k, v] of entries) await trie.put(k, v)
  await trie.del(entries[0][0])
  await trie.commit()
  return { db, trie }
}

describe('mpt commit-cache patch', () => {
  it('a committed checkpoint leaves its nodes in the node cache: reads after it touch no database', async () => {
    const { db, trie } = await committed(1000, ValueEncoding.Bytes)
    const get = vi.spyOn(db, 'get')
    for (const [k, v] of entries.slice(1)) expect(await trie.get(k)).toEqual(v)
    expect(await trie.get(entries[0][0])).toBeNull()
    expect(get).not.toHaveBeenCalled()
  })

  it('writes the same database, with or without a cache, in either value encoding', async () => {
    for (const enc of [ValueEncoding.Bytes, ValueEncoding.String]) {
      const a = await committed(1000, enc)
      const b = await committed(0, enc)
      expect(bytesToHex(a.trie.root())).toBe(bytesToHex(b.trie.root()))
      const dump = (db: MapDB<string, string | Uint8Array>) =>
        [...db._database].map(([k, v]) => [k, typeof v === 'string' ? v : bytesToHex(v)]).sort()
      expect(dump(a.db)).toEqual(dump(b.db))
      expect(dump(a.db).length).toBeGreaterThan(10)
      // every key is the unprefixed hex of a node hash
      for (const [k] of dump(a.db)) expect(k).toMatch(/^[0-9a-f]{64}$/)
      const fresh = new MerklePatriciaTrie({ db: a.db, valueEncoding: enc, useKeyHashing: true, root: a.trie.root() })
      for (const [k, v] of entries.slice(1)) expect(await fresh.get(k)).toEqual(v)
    }
  })
})
