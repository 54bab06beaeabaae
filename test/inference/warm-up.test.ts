// The runtime warm-up (src/inference/warm-up.ts): it runs the fixed model in a worker of the pool before any real
// load, once per pool, only when asked, and the models run afterwards give the same bytes as in a cold pool.
import { execFileSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { exampleModels, pattern, squareImage } from '../../examples/models/index.ts'
import { createSessionCache, modelDigest } from '../../src/inference/cache.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import { CONSENSUS_PROFILE } from '../../src/inference/profile.ts'
import { DType, type Tensor } from '../../src/inference/tensor.ts'
import { warmUpModel, warmUpWasm } from '../../src/inference/warm-up.ts'
import { closeWasmPools, wasmPool } from '../../src/inference/wasm.ts'

afterAll(() => closeWasmPools())

const f32 = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  dtype: DType.float32,
  shape,
  data: new Uint8Array(new Float32Array(values).buffer),
})

/** Outputs of the example models (and a few other inputs) in the current pool, as bytes. */
async function outputs(): Promise<Buffer[]> {
  const models = exampleModels({ only: ['iris', 'edges'] })
  const iris = models.find((m) => m.name === 'iris')!.bytes
  const edges = models.find((m) => m.name === 'edges')!.bytes
  const cases: { model: Uint8Array; inputs: Tensor[] }[] = [
    ...models.map((m) => ({ model: m.bytes, inputs: m.sampleInput })),
    { model: iris, inputs: [f32('x', [8, 4], pattern(32, 7))] },
    { model: edges, inputs: [squareImage(16, 16)] },
  ]
  const out: Buffer[] = []
  for (const c of cases) {
    const s = await createConsensusSession({ model: c.model })
    for (const t of await s.run(c.inputs)) out.push(Buffer.from(t.data))
    await s.dispose()
  }
  return out
}

describe('runtime warm-up', () => {
  it('runs the fixed model in a worker of the pool, once per pool', async () => {
    await closeWasmPools()
    const res = await warmUpWasm(CONSENSUS_PROFILE, { runs: 5 })
    expect(res?.runs).toBe(5)
    expect(wasmPool(CONSENSUS_PROFILE).started).toBe(1)
    const [p, c] = res!.outputs
    expect([p?.name, p?.dims, c?.name, c?.dims]).toEqual(['p', [1, 4], 'c', [1]])
    const probs = [...new Float32Array(p!.data as ArrayBuffer)]
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    const argmax = probs.indexOf(Math.max(...probs))
    expect(new BigInt64Array(c!.data as ArrayBuffer)[0]).toBe(BigInt(argmax))
    // its outputs are those of a session of the same model opened the ordinary way
    const s = await createConsensusSession({ model: warmUpModel() })
    const x = f32('x', [1, 8], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    const [p2] = await s.run([x])
    expect(Buffer.from(p2!.data).equals(Buffer.from(p!.data as ArrayBuffer))).toBe(true)
    await s.dispose()
    expect(await warmUpWasm(CONSENSUS_PROFILE)).toBeUndefined()
  }, 180_000)

  it('starts with a session cache that asks for it, and not otherwise or under LATTICE_INFERENCE_WARMUP=0', async () => {
    await closeWasmPools()
    createSessionCache({ profile: CONSENSUS_PROFILE })
    expect(wasmPool(CONSENSUS_PROFILE).started).toBe(0)
    process.env.LATTICE_INFERENCE_WARMUP = '0'
    try {
      createSessionCache({ profile: CONSENSUS_PROFILE, warmUp: true })
    } finally {
      delete process.env.LATTICE_INFERENCE_WARMUP
    }
    expect(wasmPool(CONSENSUS_PROFILE).started).toBe(0)
    const cache = createSessionCache({ profile: CONSENSUS_PROFILE, warmUp: true })
    // the worker starts before any model is loaded
    expect(wasmPool(CONSENSUS_PROFILE).started).toBe(1)
    const iris = exampleModels({ only: ['iris'] })[0]!
    const out = await cache.run(modelDigest(iris.bytes), () => iris.bytes, iris.sampleInput)
    expect(out.map((t) => t.name)).toEqual(['probabilities', 'class'])
    await cache.clear()
  }, 180_000)

  it('does not keep a process alive: one that has nothing else to do exits during its warm-up', () => {
    const warmUp = new URL('../../src/inference/warm-up.ts', import.meta.url).href
    const profile = new URL('../../src/inference/profile.ts', import.meta.url).href
    const script = [
      `import { warmUpWasm } from ${JSON.stringify(warmUp)}`,
      `import { CONSENSUS_PROFILE } from ${JSON.stringify(profile)}`,
      "warmUpWasm(CONSENSUS_PROFILE, { runs: 100000 }).then((r) => console.log(r ? 'warmed' : 'failed'))",
      "console.log('started')",
    ].join('\n')
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    })
    // the worker started (the process got that far) and the process exited without waiting for 100,000 runs
    expect(out.trim().split('\n')).toEqual(['started'])
  }, 150_000)

  it('leaves the outputs of models run afterwards byte-identical to a cold pool', async () => {
    await closeWasmPools()
    const cold = await outputs()
    await closeWasmPools()
    expect(await warmUpWasm(CONSENSUS_PROFILE)).toBeDefined()
    const warm = await outputs()
    expect(warm.length).toBe(cold.length)
    for (const [i, b] of warm.entries()) expect(b.equals(cold[i]!)).toBe(true)
  }, 240_000)
})
