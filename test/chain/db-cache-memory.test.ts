// The state read cache's byte budget is what it really holds (issue 15, the soak's RSS growth): a value entry
// costs its bytes plus a Uint8Array, its ArrayBuffer and the backing store's allocation, which the budget used
// not to count, so a "64 MiB" cache grew to ~110 MiB of heap and took ~4,500 soak blocks to get there.
import { randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { ABSENT, ReadCache } from '../../src/chain/db-cache.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Live JS heap plus array buffer bytes, after full collections. */
function live(): number {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** A fresh flat 33-character key, as the state database's (a prefix and a 32-byte trie node hash, latin1). */
const pool = randomBytes(1 << 20).toString('latin1')
function key(i: number): string {
  const o = (i * 7919) % ((1 << 20) - 40)
  return `s${pool.slice(o, o + 32)}`.split('').join('')
}

describe('ReadCache memory', () => {
  // trie nodes as the soak writes them: 100-400 bytes, each in its own ArrayBuffer
  it('holds at most its budget of live memory once full of values', () => {
    const budget = 16 * 2 ** 20
    let c: ReadCache | undefined = new ReadCache(budget)
    for (let i = 0; i < 150_000; i++) c.fill(key(i), new Uint8Array(100 + (i % 300)))
    expect(c.lookup(key(149_999))).toBeInstanceOf(Uint8Array)
    expect(c.stats.evictions).toBeGreaterThan(0)
    // what dropping the cache frees: other work in the process (tests share a worker) does not count
    const withCache = live()
    c = undefined
    const held = withCache - live()
    // not vacuous: the cache filled most of its budget
    expect(held).toBeGreaterThan(budget * 0.6)
    // before the fix: ~1.6x the budget
    expect(held).toBeLessThan(budget * 1.1)
  }, 60_000)

  it('holds at most its budget of live memory once full of negative entries', () => {
    const budget = 8 * 2 ** 20
    let c: ReadCache | undefined = new ReadCache(budget)
    for (let i = 0; i < 150_000; i++) c.fill(key(i), ABSENT)
    expect(c.stats.evictions).toBeGreaterThan(0)
    const withCache = live()
    c = undefined
    const held = withCache - live()
    expect(held).toBeGreaterThan(budget * 0.6)
    expect(held).toBeLessThan(budget * 1.1)
  }, 60_000)
})
