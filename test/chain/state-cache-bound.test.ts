import { Caches, CacheType, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, createAddressFromString, intToBytes, setLengthLeft } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { boundStateCaches, storageCacheSlots } from '../../src/chain/state-cache-bound.ts'

const contract = createAddressFromString('0xa110000000000000000000000000000000000002')
const slot = (i: number) => setLengthLeft(intToBytes(i), 32)

/** A state manager with the chain's kind of caches, `n` slots of one contract written and committed. */
async function written(n: number): Promise<MerkleStateManager> {
  const caches = new Caches({
    account: { type: CacheType.LRU, size: 10 },
    storage: { type: CacheType.LRU, size: 10 },
    code: { type: CacheType.LRU, size: 100 },
  })
  const sm = new MerkleStateManager({ caches })
  await sm.checkpoint()
  await sm.putAccount(contract, new Account())
  for (let i = 1; i <= n; i++) await sm.putStorage(contract, slot(i), intToBytes(i))
  await sm.commit()
  return sm
}

describe('boundStateCaches', () => {
  it('sees every slot of one account in the storage cache, whose LRU counts only accounts', async () => {
    const sm = await written(1000)
    // one account, 1,000 slots: the LRU's bound (10 accounts) never applies
    expect(storageCacheSlots(sm)).toBe(1000)
  })

  it('drops the caches past the bound, and the state reads the same afterwards', async () => {
    const sm = await written(1000)
    const root = await sm.getStateRoot()
    expect(boundStateCaches(sm, 1000)).toBe(false)
    expect(storageCacheSlots(sm)).toBe(1000)
    // not while a checkpoint is open: the caches may hold unflushed writes
    await sm.checkpoint()
    expect(boundStateCaches(sm, 999)).toBe(false)
    await sm.commit()
    expect(boundStateCaches(sm, 999)).toBe(true)
    expect(storageCacheSlots(sm)).toBe(0)
    expect(await sm.getStateRoot()).toEqual(root)
    for (const i of [1, 500, 1000]) expect(await sm.getStorage(contract, slot(i))).toEqual(intToBytes(i))
  })
})
