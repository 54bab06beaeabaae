import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { pattern } from '../../examples/models/index.ts'
import { buildModel, ElemType } from '../../src/inference/builder.ts'
import { createSession } from '../../src/inference/onnx.ts'
import { CONSENSUS_PROFILE, CONSENSUS_PROFILE_V1 } from '../../src/inference/profile.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'

const run = promisify(execFile)

async function childHashes(): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/inference/helpers/run-examples.ts'], {
    maxBuffer: 1 << 20,
  })
  return JSON.parse(stdout) as Record<string, string>
}

describe('consensus determinism', () => {
  it('two separate processes produce identical output bytes for every example model', async () => {
    const [a, b] = await Promise.all([childHashes(), childHashes()])
    expect(Object.keys(a).sort()).toEqual([
      'bigram',
      'edges',
      'iris',
      'ppocr-cls',
      'ppocr-det',
      'ppocr-rec',
      'silero-vad',
    ])
    // each value is one run's hash; a child whose second run differed from its first reports that instead
    for (const v of [...Object.values(a), ...Object.values(b)]) expect(v).toMatch(/^[0-9a-f]{64}$/)
    expect(b).toEqual(a)
  })

  // native ONNX Runtime (consensus-v1); onnxruntime-web's Gemm gives the same bits as MatMul+Add on this graph
  it('changing the graph optimisation level changes native output bits (MatMul+Add -> Gemm fusion)', async () => {
    const K = 256
    const N = 64
    const model = buildModel({
      inputs: [{ name: 'x', elemType: ElemType.float32, shape: [1, K] }],
      outputs: [{ name: 'y', elemType: ElemType.float32, shape: [1, N] }],
      initializers: [
        {
          name: 'W',
          elemType: ElemType.float32,
          dims: [K, N],
          data: new Float32Array(pattern(K * N, 7).map((v) => (v - 0.5) * 2)),
        },
        {
          name: 'B',
          elemType: ElemType.float32,
          dims: [N],
          data: new Float32Array(pattern(N, 8).map((v) => (v - 0.5) * 100)),
        },
      ],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
        { op: 'Add', inputs: ['xw', 'B'], outputs: ['y'] },
      ],
    })
    const x = tensorFromValues(
      'x',
      DType.float32,
      [1, K],
      pattern(K, 9).map((v) => (v - 0.5) * 10),
    )
    const outputs: Record<string, Uint8Array> = {}
    for (const level of ['disabled', 'basic'] as const) {
      const s = await createSession({
        model,
        profile: { ...CONSENSUS_PROFILE_V1, id: `test-${level}`, graphOptimizationLevel: level },
      })
      const [y] = await s.run([x])
      outputs[level] = y.data
      await s.dispose()
    }
    expect(CONSENSUS_PROFILE.graphOptimizationLevel).toBe('disabled')
    expect(CONSENSUS_PROFILE_V1.graphOptimizationLevel).toBe('disabled')
    expect(Buffer.from(outputs.basic).equals(Buffer.from(outputs.disabled))).toBe(false)
    // same values to float32 tolerance: only the rounding differs
    const a = new Float32Array(outputs.disabled.slice().buffer)
    const b = new Float32Array(outputs.basic.slice().buffer)
    for (let i = 0; i < N; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(a[i])))
  })
})
