import { describe, expect, it } from 'vitest'
import { openInferenceStack, stateProfile } from '../../src/cli/stack.ts'
import { CONSENSUS_PROFILE, CONSENSUS_PROFILE_V1 } from '../../src/inference/profile.ts'

describe('the profile for state-changing inference', () => {
  it('is the pinned consensus profile by default and when the genesis says so', () => {
    expect(stateProfile().profile).toBe(CONSENSUS_PROFILE)
    expect(stateProfile({ inference: { profile: 'consensus-v2' }, validators: ['0x1', '0x2'] })).toEqual({
      profile: CONSENSUS_PROFILE,
    })
    expect(CONSENSUS_PROFILE).toMatchObject({
      id: 'consensus-v2',
      runtime: 'wasm',
      portable: true,
      intraOpNumThreads: 1,
      executionMode: 'sequential',
    })
  })

  it('the legacy "consensus" is consensus-v1 (native), with a notice that its bits depend on the CPU', () => {
    const r = stateProfile({ inference: { profile: 'consensus' }, validators: ['0x1', '0x2'] })
    expect(r.profile).toBe(CONSENSUS_PROFILE_V1)
    expect(r.notice).toMatch(
      /consensus-v1 \("consensus" is its legacy name\), native ONNX Runtime: its output bits depend/,
    )
    expect(() => stateProfile({ inference: { profile: 'consensus-v7' } })).toThrow(/unknown inference profile/)
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

  it('a node refuses to start when the installed runtime is not the one its profile pins', async () => {
    const other = {
      ...CONSENSUS_PROFILE,
      wasm: { ...CONSENSUS_PROFILE.wasm!, sha256: 'ff'.repeat(32) },
    }
    await expect(
      openInferenceStack({ datadir: '/nonexistent/lattice-never-created', profileOverride: other }),
    ).rejects.toThrow(/inference profile consensus-v2 cannot run on this install: .*the profile pins ffff/)
  })
})
