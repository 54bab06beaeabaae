// patches/lru-cache-*-clear-live.patch: lru-cache's clear() filled its whole max-length key and value lists, and
// delete() clears when it removes the last entry. ethereumjs' state caches are 100k/50k-entry LRUs and a reverted
// checkpoint deletes what it loaded, so an eth_call on a quiet chain (the cache empty before the call, one sender
// account loaded in it) paid two 100k-element fills per call: 0.40 of 1.14 ms per call in the profile. Now only
// the slots in use are cleared (every other slot is undefined already).

import { Caches, CacheType, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, createAddressFromString } from '@ethereumjs/util'
import { LRUCache } from 'lru-cache'
import { afterEach, describe, expect, it } from 'vitest'

const realFill = Array.prototype.fill
afterEach(() => {
  Array.prototype.fill = realFill
})

/** Lengths of the arrays `Array.prototype.fill` runs on while `f` runs. */
async function fillsDuring(f: () => Promise<void> | void): Promise<number[]> {
  const lengths: number[] = []
  Array.prototype.fill = function (this: unknown[], ...args: Parameters<typeof realFill>) {
    lengths.push(this.length)
    return realFill.apply(this, args)
  } as typeof realFill
  try {
    await f()
  } finally {
    Array.prototype.fill = realFill
  }
  return lengths
}

describe('lru-cache clear-live patch', () => {
  it('a reverted call on an empty account cache fills no 100k-entry list', async () => {
    const caches = new Caches({
      account: { type: CacheType.LRU, size: 100_000 },
      storage: { type: CacheType.LRU, size: 50_000 },
      code: { type: CacheType.LRU, size: 5_000 },
    })
    const sm = new MerkleStateManager({ caches })
    const sender = createAddressFromString(`0x${'11'.repeat(20)}`)
    await sm.checkpoint()
    await sm.putAccount(sender, new Account(0n, 10n ** 18n))
    await sm.commit()
    await sm.flush()
    caches.clear()
    const lengths = await fillsDuring(async () => {
      await sm.checkpoint()
      const a = await sm.getAccount(sender)
      a!.nonce++
      await sm.putAccount(sender, a)
      await sm.revert() // deletes the account the call loaded: the cache's last entry
    })
    expect(lengths.filter((n) => n >= 5_000)).toEqual([])
    // and the state is as before the call
    expect((await sm.getAccount(sender))?.nonce).toBe(0n)
  })

  it('behaves as a reference LRU through deletes to empty, clears and evictions', () => {
    // a seeded sequence of operations on a small cache against a Map kept in recency order
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const max = 6
    const lru = new LRUCache<number, string>({ max })
    const ref = new Map<number, string>()
    const touch = (k: number) => {
      const v = ref.get(k)!
      ref.delete(k)
      ref.set(k, v)
    }
    for (let step = 0; step < 5_000; step++) {
      const k = rand(10)
      const op = rand(10)
      if (op < 4) {
        const v = `v${step}`
        lru.set(k, v)
        ref.delete(k)
        ref.set(k, v)
        if (ref.size > max) ref.delete(ref.keys().next().value!)
      } else if (op < 7) {
        expect(lru.get(k)).toBe(ref.get(k))
        if (ref.has(k)) touch(k)
      } else if (op < 9) {
        expect(lru.delete(k)).toBe(ref.delete(k))
      } else if (rand(20) === 0) {
        lru.clear()
        ref.clear()
      }
      expect(lru.size).toBe(ref.size)
      expect([...lru.keys()].reverse()).toEqual([...ref.keys()])
      expect([...lru.values()].reverse()).toEqual([...ref.values()])
    }
  })

  it('reuses the slots of a cache emptied by deletes with new entries only', () => {
    const lru = new LRUCache<string, object>({ max: 100 })
    for (let i = 0; i < 50; i++) lru.set(`k${i}`, { i })
    for (let i = 0; i < 49; i++) lru.delete(`k${i}`)
    lru.delete('k49') // the last entry: clear()
    // every slot ever used is free again: refilling never finds an old value under a new key
    for (let i = 0; i < 100; i++) lru.set(`n${i}`, { n: i })
    expect([...lru.values()].every((v) => 'n' in v)).toBe(true)
    expect(lru.dump().length).toBe(100)
    lru.clear()
    expect(lru.size).toBe(0)
    expect(lru.get('n5')).toBeUndefined()
  })
})
