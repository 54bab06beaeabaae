// patches/ethereumjs-mpt-*-empty-root.patch: reading an empty trie (every account without storage) looked up the
// empty root's node, which no database holds, and threw and caught 'Missing node in DB' each time.
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { hexToBytes } from '@ethereumjs/util'
import { describe, expect, it, vi } from 'vitest'

const KEY = hexToBytes('0x01')

describe('mpt empty-root patch', () => {
  it('a read of an empty trie looks up no node', async () => {
    const trie = new MerklePatriciaTrie()
    const lookup = vi.spyOn(trie, 'lookupNode')
    expect(await trie.get(KEY)).toBeNull()
    expect(await trie.checkRoot(trie.EMPTY_TRIE_ROOT)).toBe(true)
    expect(lookup).not.toHaveBeenCalled()
  })

  it('keeps what the lookup gave: proofs still throw, other missing roots are still unknown', async () => {
    const trie = new MerklePatriciaTrie()
    await expect(trie.get(KEY, true)).rejects.toThrow('Missing node in DB')
    expect(await trie.checkRoot(new Uint8Array(32).fill(1))).toBe(false)
    await trie.put(KEY, hexToBytes('0x02'))
    expect(await trie.get(KEY)).toEqual(hexToBytes('0x02'))
    await trie.del(KEY)
    expect(trie.root()).toEqual(trie.EMPTY_TRIE_ROOT)
    expect(await trie.get(KEY)).toBeNull()
  })
})
