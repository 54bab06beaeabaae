import { describe, expect, it } from 'vitest'
import { buildBigramModel, decodeText, encodeText, VOCAB } from '../../examples/models/bigram.ts'
import { buildEdgeModel } from '../../examples/models/edges.ts'
import { EXAMPLE_MODEL_NAMES, exampleModels, squareImage } from '../../examples/models/index.ts'
import { buildIrisModel, IRIS_MEANS } from '../../examples/models/iris.ts'
import { countFlops, type InputShape } from '../../src/inference/flops.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import { DType, type Tensor, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'

const floats = (t: Tensor): number[] => tensorValues(t) as number[]

describe('example models', () => {
  it('iris: each class mean and a typical flower are classified as their species', async () => {
    const s = await createConsensusSession({ model: buildIrisModel() })
    const x = tensorFromValues('x', DType.float32, [3, 4], IRIS_MEANS.flat())
    const [probs, cls] = await s.run([x])
    expect(tensorValues(cls)).toEqual([0n, 1n, 2n])
    const p = floats(probs)
    for (let r = 0; r < 3; r++) expect(p[r * 3] + p[r * 3 + 1] + p[r * 3 + 2]).toBeCloseTo(1, 5)
    // a long-petalled flower is virginica, a short-petalled one setosa
    const [, c2] = await s.run([tensorFromValues('x', DType.float32, [2, 4], [7.7, 3.0, 6.1, 2.3, 4.6, 3.2, 1.4, 0.2])])
    expect(tensorValues(c2)).toEqual([2n, 0n])
  })

  it('edges: zero in flat regions, strong on the square outline', async () => {
    const s = await createConsensusSession({ model: buildEdgeModel() })
    const [gray, edges] = await s.run([squareImage(16, 16)])
    expect(floats(gray)[0]).toBeCloseTo(0.1, 5)
    const e = floats(edges)
    expect(e[2 * 16 + 8]).toBeLessThan(1e-6) // background (away from the zero-padded border)
    expect(e[8 * 16 + 8]).toBeLessThan(1e-6) // centre of the square
    expect(e[8 * 16 + 4]).toBeGreaterThan(1) // left edge of the square (x = 4)
    expect(e[4 * 16 + 8]).toBeGreaterThan(1) // top edge (y = 4)
  })

  it('bigram: predicts likely next characters and generates text', async () => {
    const s = await createConsensusSession({ model: buildBigramModel() })
    const [, next] = await s.run([tensorFromValues('tokens', DType.int64, [1, 2], encodeText('th'))])
    // after "t" comes "h"; after "h" comes "e" in the corpus
    expect(decodeText(tensorValues(next) as bigint[])).toBe('he')
    let text = 't'
    for (let i = 0; i < 12; i++) {
      const ids = encodeText(text)
      const [, n] = await s.run([tensorFromValues('tokens', DType.int64, [1, ids.length], ids)])
      text += VOCAB[Number((tensorValues(n) as bigint[])[ids.length - 1])]
    }
    expect(text.startsWith('the ')).toBe(true)
    expect(/^[a-z .]+$/.test(text)).toBe(true)
  })

  it('every example model loads, runs its sample input and is counted by the FLOP counter', async () => {
    const models = exampleModels()
    expect(models.map((m) => m.name)).toEqual([...EXAMPLE_MODEL_NAMES])
    for (const m of models) {
      const s = await createConsensusSession({ model: m.bytes })
      const out = await s.run(m.sampleInput)
      expect(out.length).toBe(s.outputs.length)
      const inputs: Record<string, InputShape> = {}
      for (const t of m.sampleInput) {
        inputs[t.name] =
          t.dtype === DType.int64 && t.data.byteLength <= 64
            ? { shape: t.shape, values: tensorValues(t) as bigint[] }
            : t.shape
      }
      const r = countFlops({ model: m.bytes, inputs })
      expect(r.flops).toBeGreaterThan(0)
      for (const t of out) expect(r.outputShapes[t.name]).toEqual(t.shape)
      await s.dispose()
      if (m.name === 'ppocr-cls' || m.name === 'ppocr-rec') {
        const p = floats(out[0])
        const classes = out[0].shape[out[0].shape.length - 1]
        expect(p.slice(0, classes).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4)
      }
      if (m.name === 'ppocr-det') for (const v of floats(out[0])) expect(v >= 0 && v <= 1).toBe(true)
      if (m.name === 'silero-vad') {
        const p = floats(out[0])[0]
        expect(p >= 0 && p <= 1).toBe(true)
        expect(out[1].shape).toEqual([2, 1, 128])
      }
    }
  })
})
