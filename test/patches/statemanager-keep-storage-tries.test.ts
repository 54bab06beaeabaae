// patches/ethereumjs-statemanager-*-keep-storage-tries.patch: MerkleStateManager.revert() dropped every storage
// trie, so each reverted call (every eth_call, every failed frame) copied the trie of each contract it read again.
// Storage tries are now kept across a revert and re-rooted on lookup when the reverted account's root differs.
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'

const ADDR = createAddressFromString('0x00000000000000000000000000000000000000aa')
const SLOT = setLengthLeft(hexToBytes('0x01'), 32)
const SLOT2 = setLengthLeft(hexToBytes('0x02'), 32)

type Internals = { _storageTries: Record<string, unknown> }
const tries = (sm: MerkleStateManager) => Object.values((sm as unknown as Internals)._storageTries)

/** A state manager with one account holding 0x07 at SLOT, committed. */
async function seeded(caches: boolean): Promise<MerkleStateManager> {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
  const sm = new MerkleStateManager({ common, caches: caches ? new Caches() : undefined })
  await sm.checkpoint()
  await sm.putAccount(ADDR, new Account(0n, 1n))
  await sm.putStorage(ADDR, SLOT, hexToBytes('0x07'))
  await sm.commit()
  await sm.setStateRoot(await sm.getStateRoot())
  return sm
}

describe('statemanager keep-storage-tries patch', () => {
  for (const caches of [false, true]) {
    const label = caches ? 'with caches' : 'without caches'

    it(`a read inside a reverted checkpoint leaves its storage trie for the next one (${label})`, async () => {
      const sm = await seeded(caches)
      await sm.checkpoint()
      expect(await sm.getStorage(ADDR, SLOT)).toEqual(hexToBytes('0x07'))
      const [trie] = tries(sm)
      expect(trie).toBeDefined()
      await sm.revert()
      expect(tries(sm)).toContain(trie)
      await sm.checkpoint()
      expect(await sm.getStorage(ADDR, SLOT)).toEqual(hexToBytes('0x07'))
      expect(tries(sm)).toContain(trie)
      await sm.revert()
    })

    it(`writes and clears inside a reverted checkpoint are gone after it (${label})`, async () => {
      const sm = await seeded(caches)
      const root = await sm.getStateRoot()
      await sm.checkpoint()
      await sm.putStorage(ADDR, SLOT, hexToBytes('0x09'))
      await sm.putStorage(ADDR, SLOT2, hexToBytes('0x0a'))
      expect(await sm.getStorage(ADDR, SLOT)).toEqual(hexToBytes('0x09'))
      await sm.revert()
      expect(await sm.getStorage(ADDR, SLOT)).toEqual(hexToBytes('0x07'))
      expect(await sm.getStorage(ADDR, SLOT2)).toEqual(new Uint8Array())
      if (!caches) {
        // (with caches, ethereumjs' storage cache keeps a clearStorage across a revert, patched or not)
        await sm.checkpoint()
        await sm.clearStorage(ADDR)
        expect(await sm.getStorage(ADDR, SLOT)).toEqual(new Uint8Array())
        await sm.revert()
        expect(await sm.getStorage(ADDR, SLOT)).toEqual(hexToBytes('0x07'))
      }
      expect(await sm.getStateRoot()).toEqual(root)
      // and a committed write after all that lands on the right root
      await sm.checkpoint()
      await sm.putStorage(ADDR, SLOT2, hexToBytes('0x0b'))
      await sm.commit()
      expect(await sm.getStorage(ADDR, SLOT)).toEqual(hexToBytes('0x07'))
      expect(await sm.getStorage(ADDR, SLOT2)).toEqual(hexToBytes('0x0b'))
      const fresh = new MerkleStateManager({ trie: (sm as unknown as { _trie: never })._trie })
      expect(await fresh.getStorage(ADDR, SLOT2)).toEqual(hexToBytes('0x0b'))
      expect(await fresh.getStorage(ADDR, SLOT)).toEqual(hexToBytes('0x07'))
    })
  }
})
