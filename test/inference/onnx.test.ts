import { describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { ModelLoadError, ProviderUnavailableError, UnknownProviderError } from '../../src/inference/errors.ts'
import {
  checkRuntimeVersion,
  createConsensusSession,
  createSession,
  probeProvider,
  probeProviders,
  resolveDevice,
  sessionOptions,
} from '../../src/inference/onnx.ts'
import {
  CONSENSUS_PROFILE,
  CONSENSUS_PROFILE_V1,
  CONSENSUS_PROFILES,
  consensusProfile,
  type Provider,
} from '../../src/inference/profile.ts'
import { DType, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'

describe('ONNX Runtime adapter', () => {
  it('the consensus profile is v2 (WebAssembly, pinned files); v1 (native) keeps its pinned options', () => {
    expect(CONSENSUS_PROFILE.id).toBe('consensus-v2')
    expect(CONSENSUS_PROFILE.runtime).toBe('wasm')
    expect(CONSENSUS_PROFILE.wasm).toMatchObject({ package: 'onnxruntime-web', version: '1.30.0', numThreads: 1 })
    expect(CONSENSUS_PROFILES['consensus-v2']).toBe(CONSENSUS_PROFILE)
    expect(consensusProfile('consensus-v2')).toBe(CONSENSUS_PROFILE)
    expect(consensusProfile('consensus-v1')).toBe(CONSENSUS_PROFILE_V1)
    // the value genesis files carried before profiles were versioned: chains made with it replay under v1
    expect(consensusProfile('consensus')).toBe(CONSENSUS_PROFILE_V1)
    expect(() => consensusProfile('consensus-v9')).toThrow(
      'unknown inference profile "consensus-v9" (this build knows: consensus-v1, consensus-v2)',
    )
    const o = sessionOptions(CONSENSUS_PROFILE_V1)
    expect(o.executionProviders).toEqual([{ name: 'cpu' }])
    expect(o.intraOpNumThreads).toBe(1)
    expect(o.interOpNumThreads).toBe(1)
    expect(o.executionMode).toBe('sequential')
    expect(o.graphOptimizationLevel).toBe('disabled')
    expect(o.enableMemPattern).toBe(false)
    expect(o.enableCpuMemArena).toBe(false)
    expect(o.extra).toMatchObject({ 'session.disable_prepacking': '1', 'session.set_denormal_as_zero': '0' })
    expect(Object.isFrozen(CONSENSUS_PROFILE)).toBe(true)
    expect(Object.isFrozen(CONSENSUS_PROFILE_V1)).toBe(true)
    expect(checkRuntimeVersion()).toBe(true)
  })

  it('runs a model from bytes and disposes it', async () => {
    const s = await createConsensusSession({ model: buildIrisModel() })
    expect(s.provider).toBe('cpu')
    expect(s.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['N', 4] }])
    const [, cls] = await s.run([tensorFromValues('x', DType.float32, [1, 4], [6.9, 3.1, 5.4, 2.1])])
    expect(tensorValues(cls)).toEqual([2n])
    await s.dispose()
    await expect(s.run([])).rejects.toThrow('the inference session was disposed')
  })

  it('refuses bytes that are not a model with a typed error', async () => {
    const err = await createConsensusSession({ model: new Uint8Array([1, 2, 3]) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ModelLoadError)
    expect((err as ModelLoadError).code).toBe('INFERENCE_MODEL_LOAD')
  })

  it('probes every provider; cpu works here', async () => {
    const all = await probeProviders()
    expect(all.map((p) => p.provider).sort()).toEqual(['coreml', 'cpu', 'cuda', 'webgpu'])
    expect(all.find((p) => p.provider === 'cpu')?.available).toBe(true)
    for (const p of all) if (!p.available) expect(p.reason).toBeTruthy()
  })

  it('an unavailable provider is an error, never a silent fallback to cpu', async () => {
    const unavailable: Provider[] = []
    for (const p of ['coreml', 'webgpu', 'cuda'] as Provider[])
      if (!(await probeProvider(p)).available) unavailable.push(p)
    for (const p of unavailable) {
      const err = await createSession({ model: buildIrisModel(), device: p }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ProviderUnavailableError)
      expect((err as Error).message).toContain(`execution provider "${p}" is not available on this machine`)
    }
    const auto = await resolveDevice('auto')
    expect((await probeProvider(auto)).available).toBe(true)
    const s = await createSession({ model: buildIrisModel(), device: 'auto' })
    expect(s.provider).toBe(auto)
    await expect(resolveDevice('tpu' as Provider)).rejects.toBeInstanceOf(UnknownProviderError)
  })
})
