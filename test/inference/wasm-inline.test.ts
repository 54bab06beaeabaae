// Tiny runs on the calling thread (src/inference/wasm-inline.ts): the same bytes as the worker's, and runs
// that did not ask (big models, by the precompile's static cost) still go to a worker and are still abandoned
// at their RPC deadline.
import { afterAll, describe, expect, it } from 'vitest'
import { exampleModels, pattern, squareImage } from '../../examples/models/index.ts'
import { InferenceRunError } from '../../src/inference/errors.ts'
import { createConsensusSession, type OnnxSession } from '../../src/inference/onnx.ts'
import { withRunDeadline } from '../../src/inference/run-deadline.ts'
import { DType, type Tensor } from '../../src/inference/tensor.ts'
import { closeWasmPools } from '../../src/inference/wasm.ts'
import { INLINE_MAX_MODEL_BYTES, inlineRuns } from '../../src/inference/wasm-inline.ts'
import { RunAbandonedError } from '../../src/inference/worker-pool.ts'
import { loopModel, nanModel } from './helpers/models.ts'

afterAll(() => closeWasmPools())

const f32 = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  dtype: DType.float32,
  shape,
  data: new Uint8Array(new Float32Array(values).buffer),
})

/** Run inline until the calling thread's session is open (the first inline run opens it and uses the worker). */
async function runInline(s: OnnxSession, inputs: Tensor[], outputDecimals?: number): Promise<Tensor[]> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const before = inlineRuns()
    const out = await s.run(inputs, { inline: true, outputDecimals })
    if (inlineRuns() > before) return out
    if (Date.now() > deadline) throw new Error('the calling thread never ran it')
    await new Promise((r) => setTimeout(r, 50))
  }
}

const trips = (n: number): Tensor => ({
  name: 'trips',
  dtype: DType.int64,
  shape: [],
  data: new Uint8Array(new BigInt64Array([BigInt(n)]).buffer),
})

describe('tiny runs on the calling thread', () => {
  it('gives byte-identical outputs to the worker (iris, edges, NaN payloads, denormals, fixed-point out)', async () => {
    const models = exampleModels({ only: ['iris', 'edges'] })
    const cases: { model: Uint8Array; inputs: Tensor[]; outputDecimals?: number }[] = [
      ...models.map((m) => ({ model: m.bytes, inputs: m.sampleInput })),
      { model: models.find((m) => m.name === 'edges')!.bytes, inputs: [squareImage(16, 16)] },
      {
        model: models.find((m) => m.name === 'iris')!.bytes,
        inputs: [f32('x', [8, 4], pattern(32, 7))],
        outputDecimals: 6,
      },
      {
        model: nanModel(),
        inputs: [
          {
            name: 'x',
            dtype: DType.float32,
            shape: [4],
            data: new Uint8Array(new Uint32Array([0, 0x7f800001, 0xffc12345, 0x00800000]).buffer),
          },
        ],
      },
    ]
    for (const c of cases) {
      const s = await createConsensusSession({ model: c.model })
      const worker = await s.run(c.inputs, { outputDecimals: c.outputDecimals })
      const here = await runInline(s, c.inputs, c.outputDecimals)
      expect(here.map((t) => [t.name, t.dtype, t.shape])).toEqual(worker.map((t) => [t.name, t.dtype, t.shape]))
      for (const [i, t] of here.entries()) expect(Buffer.from(t.data).equals(Buffer.from(worker[i]!.data))).toBe(true)
      if (c.outputDecimals !== undefined) {
        const again = await s.run(c.inputs, { inline: true, outputDecimals: c.outputDecimals })
        for (const [i, t] of again.entries())
          expect(Buffer.from(t.data).equals(Buffer.from(worker[i]!.data))).toBe(true)
      }
      await s.dispose()
    }
  }, 180_000)

  it('reports ONNX Runtime refusals as the worker does', async () => {
    const s = await createConsensusSession({ model: loopModel() })
    await runInline(s, [trips(3), f32('x', [1], [1])])
    // a negative trip count is no error; a wrong rank reaches ONNX Runtime (validation is skipped as the precompile does)
    const bad = [trips(1), f32('x', [1, 1], [1])]
    const worker = await s.run(bad, { validated: true }).catch((e: unknown) => e)
    const before = inlineRuns()
    const here = await s.run(bad, { validated: true, inline: true }).catch((e: unknown) => e)
    expect(inlineRuns()).toBe(before + 1)
    expect(worker).toBeInstanceOf(InferenceRunError)
    expect(here).toBeInstanceOf(InferenceRunError)
    expect((here as Error).message).toBe((worker as Error).message)
    await s.dispose()
  }, 120_000)

  it('a run that did not ask goes to the worker and is still abandoned at its deadline', async () => {
    const s = await createConsensusSession({ model: loopModel() })
    await runInline(s, [trips(3), f32('x', [1], [1])])
    const before = inlineRuns()
    const started = Date.now()
    const err = await withRunDeadline({ signal: AbortSignal.timeout(300) }, () =>
      s.run([trips(2_000_000_000), f32('x', [1], [1])]),
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RunAbandonedError)
    expect(Date.now() - started).toBeLessThan(60_000)
    expect(inlineRuns()).toBe(before)
    // an inline run whose deadline has already passed is refused before it starts, as the pool refuses it
    const signal = AbortSignal.abort()
    await expect(
      withRunDeadline({ signal }, () => s.run([trips(1), f32('x', [1], [1])], { inline: true })),
    ).rejects.toThrow(RunAbandonedError)
    expect(inlineRuns()).toBe(before)
    // and the session still answers, on either thread
    const [y] = await s.run([trips(4), f32('x', [1], [2])], { inline: true })
    expect(new Float32Array(y!.data.slice().buffer)[0]).toBe(10)
    await s.dispose()
  }, 180_000)

  it('a model over the size bound never runs on the calling thread', async () => {
    const big = exampleModels({ only: ['ppocr-det'] })[0]!
    expect(big.bytes.byteLength).toBeGreaterThan(INLINE_MAX_MODEL_BYTES)
    const s = await createConsensusSession({ model: big.bytes })
    const before = inlineRuns()
    for (let i = 0; i < 3; i++) await s.run(big.sampleInput, { inline: true })
    await new Promise((r) => setTimeout(r, 200))
    await s.run(big.sampleInput, { inline: true })
    expect(inlineRuns()).toBe(before)
    await s.dispose()
  }, 180_000)
})
