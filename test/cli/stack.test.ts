import { describe, expect, it } from 'vitest'
import { stateProfile } from '../../src/cli/stack.ts'
import { CONSENSUS_PROFILE } from '../../src/inference/profile.ts'

describe('the profile for state-changing inference', () => {
  it('is the pinned consensus profile by default and when the genesis says so', () => {
    expect(stateProfile().profile).toBe(CONSENSUS_PROFILE)
    expect(stateProfile({ inference: { profile: 'consensus' }, validators: ['0x1', '0x2'] }).profile).toBe(
      CONSENSUS_PROFILE,
    )
    expect(CONSENSUS_PROFILE).toMatchObject({
      provider: 'cpu',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    })
  })

  it('may be an accelerated provider on a single-validator chain, with a notice', () => {
    const r = stateProfile({ inference: { profile: 'accelerated', provider: 'coreml' }, validators: ['0x1'] })
    expect(r.profile.provider).toBe('coreml')
    expect(r.notice).toMatch(/single-validator only/)
  })

  it('is refused as accelerated when the genesis names several validators', () => {
    expect(() =>
      stateProfile({ inference: { profile: 'accelerated', provider: 'cuda' }, validators: ['0x1', '0x2'] }),
    ).toThrow(/needs a single validator/)
  })
})
