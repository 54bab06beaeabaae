// A cached value must not keep a larger buffer alive (issue 15, the soak's remaining RSS growth): level encodes
// the meta sublevel's small utf8/json values with Buffer.from, a view into Node's shared 8 KiB pool, and the read
// cache kept those views, so each ~100-byte entry could pin a whole slab while being charged its own bytes. At
// soak block 7,000 the 16 MiB meta cache held ~35 MiB of backing stores (3,927 of them 8 KiB slabs).
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { ReadCache } from '../../src/chain/db-cache.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Array buffer bytes alive, after full collections. */
function arrayBuffers(): number {
  gc()
  gc()
  return process.memoryUsage().arrayBuffers
}

/** An undo entry as the registry index writes one a block: a short JSON string. */
const undo = (i: number) => JSON.stringify({ hash: `0x${i.toString(16).padStart(64, '0')}`, ops: [] })

describe('ReadCache and buffer views', () => {
  it('keeps a value that is a view into a larger buffer in a buffer of its own', () => {
    const c = new ReadCache(1 << 20)
    const pooled = Buffer.from(undo(1))
    // not vacuous: Buffer.from of a short string is a view into the shared pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength)
    c.fill('a', pooled)
    const done = c.write('b', pooled.subarray(10, 20))
    done()
    for (const [k, want] of [
      ['a', pooled],
      ['b', pooled.subarray(10, 20)],
    ] as const) {
      const v = c.lookup(k) as Uint8Array
      expect(Buffer.from(v).equals(want)).toBe(true)
      expect(v.byteOffset).toBe(0)
      expect(v.buffer.byteLength).toBe(v.byteLength)
    }
    // a value that owns its buffer is kept as it is (no copy)
    const own = new Uint8Array(32)
    c.fill('c', own)
    expect(c.lookup('c')).toBe(own)
  })

  it('frees the pool slabs of the values it caches: what it holds stays near its budget', () => {
    const budget = 1 << 20
    let c: ReadCache | undefined = new ReadCache(budget)
    let charged = 0
    for (let i = 0; i < 4000; i++) {
      c.fill(`R/u/${String(i).padStart(20, '0')}`, Buffer.from(undo(i)))
      // other short-lived allocations from the pool, as in a node: the next value lands in another slab
      Buffer.from('x'.repeat(4000))
      Buffer.from('y'.repeat(4000))
      charged = c.stats.bytes
    }
    expect(c.stats.evictions).toBeGreaterThan(0)
    const withCache = arrayBuffers()
    c = undefined
    const held = withCache - arrayBuffers()
    // each of the ~2,300 entries would pin an 8 KiB slab: ~18 MiB for a 1 MiB budget before the fix
    expect(charged).toBeGreaterThan(budget * 0.9)
    expect(held).toBeLessThan(budget)
  })
})
