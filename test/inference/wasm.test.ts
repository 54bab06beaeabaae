import { afterAll, describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { buildModel, ElemType } from '../../src/inference/builder.ts'
import { ModelLoadError, RuntimeMismatchError } from '../../src/inference/errors.ts'
import { createConsensusSession, createSession } from '../../src/inference/onnx.ts'
import { CONSENSUS_PROFILE, CONSENSUS_PROFILE_V1 } from '../../src/inference/profile.ts'
import { DType, type Tensor, tensorFromValues } from '../../src/inference/tensor.ts'
import { closeWasmPools, wasmPool } from '../../src/inference/wasm.ts'
import { checkRuntime, wasmRuntimeFiles } from '../../src/inference/wasm-check.ts'
import { WorkerPool } from '../../src/inference/worker-pool.ts'
import { nanModel } from './helpers/models.ts'

afterAll(() => closeWasmPools())

function f32(name: string, shape: number[], bits: number[]): Tensor {
  return { name, dtype: DType.float32, shape, data: new Uint8Array(new Uint32Array(bits).buffer) }
}
const bitsOf = (t: Tensor): number[] => [...new Uint32Array(t.data.slice().buffer)]

describe('consensus runtime (onnxruntime-web in worker threads)', () => {
  it('checks the installed .wasm and glue files against the hashes the profile pins', () => {
    const files = checkRuntime(CONSENSUS_PROFILE)!
    expect(files.sha256).toBe(CONSENSUS_PROFILE.wasm!.sha256)
    expect(files.version).toBe('1.30.0')
    expect(files.wasmPath).toMatch(/onnxruntime-web\/dist\/ort-wasm-simd-threaded\.wasm$/)
    expect(wasmRuntimeFiles(CONSENSUS_PROFILE.wasm!)).toBe(files)
    const other = {
      ...CONSENSUS_PROFILE,
      id: 'test-other-wasm',
      wasm: { ...CONSENSUS_PROFILE.wasm!, sha256: '00'.repeat(32) },
    }
    expect(() => checkRuntime(other)).toThrow(RuntimeMismatchError)
    expect(() => checkRuntime(other)).toThrow(/has sha256 3398c10d.*the profile pins 0000/)
    // a session under a profile whose runtime is not installed is refused before any work
    return expect(createSession({ model: buildIrisModel(), profile: other })).rejects.toThrow(RuntimeMismatchError)
  })

  it('a worker refuses to start on .wasm bytes other than the pinned ones', async () => {
    const files = checkRuntime(CONSENSUS_PROFILE)!
    const pool = new WorkerPool({
      size: 1,
      init: { wasmPath: files.wasmPath, sha256: 'ab'.repeat(32), version: '1.30.0', numThreads: 1 },
    })
    const opts = {
      executionMode: 'sequential',
      graphOptimizationLevel: 'disabled',
      enableCpuMemArena: false,
      enableMemPattern: false,
      extra: {},
    } as const
    await expect(pool.load('k', buildIrisModel(), opts)).rejects.toThrow(/could not start: .* has sha256 3398c10d/)
    await pool.close()
  })

  it('runs a model in a worker: same metadata as native, the JS thread stays free during a long run', async () => {
    const s = await createConsensusSession({ model: buildIrisModel() })
    expect(s.profile.id).toBe('consensus-v2')
    expect(s.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['N', 4] }])
    const [, cls] = await s.run([tensorFromValues('x', DType.float32, [1, 4], [6.9, 3.1, 5.4, 2.1])])
    expect([...new BigInt64Array(cls.data.slice().buffer)]).toEqual([2n])
    await s.dispose()

    // a chain of 1024x1024 MatMuls takes hundreds of ms; timers on this thread keep firing meanwhile
    const K = 1024
    const w = new Float32Array(K * K).map((_, i) => ((i * 7919) % 1000) / 1e6)
    const big = buildModel({
      inputs: [{ name: 'x', elemType: ElemType.float32, shape: [K, K] }],
      outputs: [{ name: 'y', elemType: ElemType.float32, shape: [K, K] }],
      initializers: [{ name: 'W', elemType: ElemType.float32, dims: [K, K], data: w }],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['a'] },
        { op: 'MatMul', inputs: ['a', 'W'], outputs: ['b'] },
        { op: 'MatMul', inputs: ['b', 'W'], outputs: ['y'] },
      ],
    })
    const bs = await createConsensusSession({ model: big })
    const x: Tensor = { name: 'x', dtype: DType.float32, shape: [K, K], data: new Uint8Array(w.slice().buffer) }
    const ticks: number[] = []
    const timer = setInterval(() => ticks.push(performance.now()), 5)
    const t0 = performance.now()
    const [y] = await bs.run([x])
    const t1 = performance.now()
    clearInterval(timer)
    expect(y.data.byteLength).toBe(K * K * 4)
    const ms = t1 - t0
    expect(ms).toBeGreaterThan(50)
    // a run on this thread would leave one gap as long as the run; here the timer keeps firing throughout
    const stamps = [t0, ...ticks, t1]
    const maxGap = Math.max(...stamps.slice(1).map((t, i) => t - stamps[i]))
    expect(ticks.length).toBeGreaterThanOrEqual(3)
    expect(maxGap).toBeLessThan(ms / 2)
    await bs.dispose()
  })

  it('refuses a model the consensus runtime cannot execute, naming the op (what model deploy reports)', async () => {
    const model = buildModel({
      inputs: [{ name: 'x', elemType: ElemType.float32, shape: [2, 8] }],
      outputs: [{ name: 'y', elemType: ElemType.float32, shape: [2, 5, 2] }],
      nodes: [{ op: 'Rfft', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'] }],
      domains: { 'com.microsoft': 1 },
    })
    const err = await createConsensusSession({ model }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ModelLoadError)
    expect((err as Error).message).toBe(
      "the model could not be loaded: Could not find an implementation for Rfft(1) node with name 'Rfft_0'",
    )
  })

  it('canonicalises NaN outputs to one bit pattern and keeps denormals', async () => {
    const model = nanModel()
    const s = await createConsensusSession({ model })
    // 0, a NaN with a payload, a negative NaN, the smallest normal float32
    const [q, h] = await s.run([f32('x', [4], [0, 0x7f800001, 0xffc12345, 0x00800000])])
    expect(bitsOf(q)).toEqual([0x7fc00000, 0x7fc00000, 0x7fc00000, 0x3f800000])
    // 0 * 0.5, NaNs canonical, 2^-126 * 0.5 = 2^-127: a denormal, not flushed to zero
    expect(bitsOf(h)).toEqual([0, 0x7fc00000, 0x7fc00000, 0x00400000])
    await s.dispose()
  })

  it('the pool is bounded: sessions share its workers, runs on several models all answer', async () => {
    const files = checkRuntime(CONSENSUS_PROFILE)!
    const pool = new WorkerPool({
      size: 1,
      maxQueue: 4,
      init: { wasmPath: files.wasmPath, sha256: files.sha256, version: '1.30.0', numThreads: 1 },
    })
    const opts = {
      executionMode: 'sequential',
      graphOptimizationLevel: 'disabled',
      enableCpuMemArena: false,
      enableMemPattern: false,
      extra: {},
    } as const
    const a = await pool.load('a', buildIrisModel(), opts)
    const b = await pool.load('b', buildIrisModel(), opts)
    expect(pool.started).toBe(1)
    expect(a.slot).toBe(b.slot)
    const feed = () => [
      { name: 'x', type: 'float32', dims: [1, 4], data: new Float32Array([6.9, 3.1, 5.4, 2.1]).buffer },
    ]
    const runs = Array.from({ length: 6 }, (_, i) =>
      pool.run(i % 2 ? a.slot : b.slot, i % 2 ? 'a' : 'b', feed()).then(
        (o) => o.length,
        (e: Error) => e.message,
      ),
    )
    const results = await Promise.all(runs)
    // four in flight at most: the rest are refused with a typed error, never queued without bound
    expect(results.filter((r) => r === 2)).toHaveLength(4)
    expect(results.filter((r) => typeof r === 'string')).toEqual([
      expect.stringMatching(/requests are waiting \(the bound is 4\)/),
      expect.stringMatching(/requests are waiting \(the bound is 4\)/),
    ])
    await pool.close()
  })

  it('a session whose worker died loads again in a live worker on its next run; the failure is never a run error', async () => {
    const s = await createConsensusSession({ model: buildIrisModel() })
    const x = tensorFromValues('x', DType.float32, [1, 4], [6.9, 3.1, 5.4, 2.1])
    const [before] = await s.run([x])
    // what a crash looks like from here: every worker of the pool exits
    const slots = (wasmPool(CONSENSUS_PROFILE) as unknown as { slots: { worker: { terminate(): Promise<number> } }[] })
      .slots
    await Promise.all(slots.map((w) => w.worker.terminate()))
    const [after] = await s.run([x])
    expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(true)
    await s.dispose()
  })

  it('agrees with native consensus-v1 to float32 tolerance (its bits may differ: docs/determinism.md)', async () => {
    const x = tensorFromValues('x', DType.float32, [3, 4], [5.1, 3.5, 1.4, 0.2, 5.9, 3.0, 4.2, 1.5, 6.9, 3.1, 5.4, 2.1])
    const w = await createConsensusSession({ model: buildIrisModel() })
    const n = await createSession({ model: buildIrisModel(), profile: CONSENSUS_PROFILE_V1 })
    const [pw, cw] = await w.run([x])
    const [pn, cn] = await n.run([x])
    expect(Buffer.from(cw.data).equals(Buffer.from(cn.data))).toBe(true)
    // same classes, same values to float32 tolerance
    const a = new Float32Array(pw.data.slice().buffer)
    const b = new Float32Array(pn.data.slice().buffer)
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5)
    await w.dispose()
    await n.dispose()
  })
})
