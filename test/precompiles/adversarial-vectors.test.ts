import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MICRO_GAS } from '../../src/inference/flops/schedule.ts'
import { CURRENT_GAS_SCHEDULE, checkModelBounds } from '../../src/inference/flops.ts'
import { INFERENCE_GAS } from '../../src/precompiles/params.ts'
import { type AdversarialVector, vectorOutcome } from './adversarial-vectors.ts'

const vectors = JSON.parse(
  readFileSync(new URL('./adversarial-vectors.json', import.meta.url), 'utf8'),
) as AdversarialVector[]

describe('adversarial gas vectors (issue 13)', () => {
  it('names every adversarial graph the issue lists', () => {
    expect(vectors.map((v) => v.recipe).sort()).toEqual(
      [
        'chain',
        'concat',
        'constantOfShape',
        'expand',
        'expandReshapeChain',
        'loop',
        'range',
        'rangeFromData',
        'resize',
        'tileTransposeSlice',
      ].sort(),
    )
  })

  for (const v of vectors) {
    it(`${v.name}: ${v.expectedError ? 'refused before any work' : `${v.expectedGas} gas`}`, {
      timeout: 120_000,
    }, () => {
      const outcome = vectorOutcome(v)
      if (v.expectedError) {
        expect('error' in outcome && outcome.error).toBe(v.expectedError)
      } else {
        expect('gas' in outcome && outcome.gas).toBe(BigInt(v.expectedGas as string))
        // data movement is charged for what it moves: far above the base a free op would leave
        expect(BigInt(v.expectedGas as string)).toBeGreaterThan(INFERENCE_GAS.base + 10_000n)
      }
      if (v.registration === 'accepted') expect(() => checkModelBounds(outcome.model)).not.toThrow()
      else expect(() => checkModelBounds(outcome.model)).toThrow(v.registration)
    })
  }

  it('the memory refusals name the node, its output tensor and the 256 MiB limit', () => {
    const expand = vectors.find((v) => v.recipe === 'expand') as AdversarialVector
    expect(expand.expectedError).toMatch(
      /node "Expand_0" \(Expand\) needs .* its output "y" is float32\[1000000000\], 3\.7 GiB; the per-call limit is 256 MiB/,
    )
  })

  it('a 1e6-iteration Loop pays every iteration and its body nodes', () => {
    const loop = vectors.find((v) => v.recipe === 'loop') as AdversarialVector
    const s = CURRENT_GAS_SCHEDULE
    const perIteration = (s.perIteration + 2n * s.perNode) / MICRO_GAS
    expect(BigInt(loop.expectedGas as string)).toBeGreaterThan(1_000_000n * perIteration)
  })

  it('a 100k-node graph is refused before any work, at registration and at call time', () => {
    const chain = vectors.find((v) => v.recipe === 'chain') as AdversarialVector
    expect(chain.expectedError).toBe('the graph has 100000 nodes (subgraphs included); the limit is 50000')
    expect(chain.registration).toMatch(/too large to run on-chain/)
  })

  it('registration refuses a graph whose memory cannot be bounded, naming the op', () => {
    const v = vectors.find((x) => x.recipe === 'rangeFromData') as AdversarialVector
    expect(v.registration).toMatch(/op Range \(node "Range_2"\)/)
  })
})
