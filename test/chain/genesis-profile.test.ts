import { describe, expect, it } from 'vitest'
import { loadChainSpec, parseChainSpec } from '../../src/chain/genesis.ts'
import { stateProfile } from '../../src/cli/stack.ts'
import { CONSENSUS_PROFILE_V2 } from '../../src/inference/profile.ts'

const TWO = [`0x${'11'.repeat(20)}`, `0x${'22'.repeat(20)}`]

function withInference(inference: unknown, validators?: string[]): unknown {
  const g = structuredClone(loadChainSpec().geth) as unknown as { config: { lattice: Record<string, unknown> } }
  g.config.lattice.inference = inference
  if (validators) g.config.lattice.validators = validators
  return g
}

describe('config.lattice.inference.profile', () => {
  it('the devnet genesis names consensus-v2, the portable WebAssembly profile', () => {
    const spec = loadChainSpec()
    expect(spec.lattice.inference).toEqual({ profile: 'consensus-v2' })
    expect(stateProfile(spec.lattice).profile).toBe(CONSENSUS_PROFILE_V2)
  })

  it('accepts profile ids, the legacy "consensus" and "accelerated"; refuses anything else with the list', () => {
    for (const profile of ['consensus-v2', 'consensus-v1', 'consensus']) {
      expect(() => parseChainSpec(withInference({ profile }, TWO))).not.toThrow()
    }
    expect(() => parseChainSpec(withInference({ profile: 'accelerated', provider: 'cpu' }))).not.toThrow()
    expect(() => parseChainSpec(withInference({ profile: 'consensus-v3' }))).toThrow(
      'config.lattice.inference.profile must be one of "consensus-v1", "consensus-v2", "consensus", "accelerated"; got "consensus-v3"',
    )
    expect(() => parseChainSpec(withInference({ profile: 'consensus-v2', provider: 'cuda' }))).toThrow(
      'config.lattice.inference.provider is only for profile "accelerated"',
    )
    expect(() => parseChainSpec(withInference({ profile: 'accelerated' }, TWO))).toThrow(
      /"accelerated" needs a single validator; use "consensus-v2" with several/,
    )
  })
})
