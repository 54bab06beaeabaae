import { describe, expect, it } from 'vitest'
import { buildBigramModel } from '../../examples/models/bigram.ts'
import { buildEdgeModel } from '../../examples/models/edges.ts'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { LatticeError } from '../../src/errors.ts'
import { countFlops } from '../../src/inference/flops.ts'
import { torchvisionFixture } from './helpers/fixtures.ts'

// The counter runs on untrusted model bytes at registration: whatever the bytes, it returns a count or throws a
// typed LatticeError, never anything else.
function mutate(bytes: Uint8Array, seed: number): Uint8Array {
  const out = new Uint8Array(bytes)
  let x = seed
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) >>> 0
    return x
  }
  const n = 1 + (rnd() % 4)
  for (let i = 0; i < n; i++) out[rnd() % out.length] = rnd() & 0xff
  return rnd() % 5 === 0 ? out.subarray(0, rnd() % out.length) : out
}

describe('FLOP counter on corrupted models', () => {
  it('never throws anything but a LatticeError', () => {
    const models: [Uint8Array, Record<string, number[]>][] = [
      [buildIrisModel(), { x: [2, 4] }],
      [buildEdgeModel(), { image: [1, 3, 16, 16] }],
      [buildBigramModel(), { tokens: [1, 5] }],
      [torchvisionFixture('squeezenet1_1'), {}],
    ]
    const bad: string[] = []
    let counted = 0
    for (let seed = 1; seed <= 1500; seed++) {
      const [model, inputs] = models[seed % models.length]
      try {
        countFlops({ model: mutate(model, seed), inputs })
        counted++
      } catch (err) {
        if (!(err instanceof LatticeError))
          bad.push(`seed ${seed}: ${(err as Error).stack?.split('\n').slice(0, 3).join(' | ')}`)
      }
    }
    expect(bad).toEqual([])
    expect(counted).toBeGreaterThan(0)
  })
})
