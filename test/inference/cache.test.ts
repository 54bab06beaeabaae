import { describe, expect, it } from 'vitest'
import { buildBigramModel } from '../../examples/models/bigram.ts'
import { buildEdgeModel } from '../../examples/models/edges.ts'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { createSessionCache, modelDigest } from '../../src/inference/cache.ts'
import { type CreateSessionOpts, createSession, type OnnxSession } from '../../src/inference/onnx.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'

const iris = buildIrisModel()
const edges = buildEdgeModel()
const bigram = buildBigramModel()
const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])

describe('session cache', () => {
  it('counts hits and misses and evicts least recently used by bytes', async () => {
    const cache = createSessionCache({ maxBytes: iris.byteLength + bigram.byteLength + 1 })
    const [di, de, db] = [iris, edges, bigram].map(modelDigest)
    await cache.get(di, () => iris)
    await cache.get(de, () => edges)
    await cache.get(di, () => iris) // iris is now most recent
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, entries: 2, evictions: 0 })
    await cache.get(db, () => bigram) // over budget: evicts edges (least recent), keeps iris
    expect(cache.has(de)).toBe(false)
    expect(cache.has(di)).toBe(true)
    expect(cache.has(db)).toBe(true)
    expect(cache.stats().evictions).toBeGreaterThanOrEqual(1)
    expect(cache.stats().bytes).toBe(iris.byteLength + bigram.byteLength)
    await cache.clear()
    expect(cache.stats().entries).toBe(0)
  })

  it('loads a model once under concurrent misses and serialises runs per session', async () => {
    let loads = 0
    let active = 0
    let maxActive = 0
    // wraps the real session to observe overlap: each run holds the session across a macrotask
    const create = async (o: CreateSessionOpts): Promise<OnnxSession> => {
      const s = await createSession(o)
      return {
        ...s,
        async run(inputs, opts) {
          active++
          maxActive = Math.max(maxActive, active)
          await new Promise((r) => setTimeout(r, 2))
          try {
            return await s.run(inputs, opts)
          } finally {
            active--
          }
        },
      }
    }
    const cache = createSessionCache({ create })
    const d = modelDigest(iris)
    const load = (): Uint8Array => {
      loads++
      return iris
    }
    const results = await Promise.all(Array.from({ length: 8 }, () => cache.run(d, load, [x])))
    expect(results).toHaveLength(8)
    for (const r of results) expect(Buffer.from(r[0].data).equals(Buffer.from(results[0][0].data))).toBe(true)
    expect(maxActive).toBe(1)
    // eight concurrent runs on one digest share one load: one miss, seven hits
    expect(cache.stats().misses).toBe(1)
    expect(cache.stats().hits).toBe(7)
    expect(cache.stats().entries).toBe(1)
    expect(loads).toBe(1)
    // a failing run does not block the queue
    await expect(cache.run(d, load, [])).rejects.toThrow('input "x" is missing')
    await expect(cache.run(d, load, [x])).resolves.toHaveLength(2)
    await cache.clear()
  })

  it('an evicted session finishes its queued runs before it is disposed', async () => {
    const cache = createSessionCache({ maxBytes: bigram.byteLength })
    const di = modelDigest(iris)
    const s = await cache.get(di, () => iris)
    const pending = [cache.run(di, () => iris, [x]), cache.run(di, () => iris, [x])]
    await cache.get(modelDigest(bigram), () => bigram) // over budget: iris is evicted while its runs are queued
    expect(cache.has(di)).toBe(false)
    const results = await Promise.all(pending)
    expect(results.map((r) => r[1].shape)).toEqual([[1], [1]])
    await new Promise((r) => setTimeout(r, 10))
    expect(s.disposed).toBe(true)
    await cache.clear()
  })
})
