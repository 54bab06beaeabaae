import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import { DType, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'
import { TORCHVISION_GMACS } from '../inference/helpers/fixtures.ts'

const exec = promisify(execFile)

async function lattice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['bin/lattice.js', ...args], { maxBuffer: 8 << 20 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('lattice devices / flops / infer', () => {
  let dir: string
  let iris: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-cli-'))
    iris = join(dir, 'iris.onnx')
    writeFileSync(iris, buildIrisModel())
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('devices lists every provider and marks cpu available', async () => {
    const r = await lattice('devices', '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as {
      providers: { provider: string; available: boolean }[]
      consensusProfile: string
      auto: string
    }
    expect(j.providers.map((p) => p.provider).sort()).toEqual(['coreml', 'cpu', 'cuda', 'webgpu'])
    expect(j.providers.find((p) => p.provider === 'cpu')?.available).toBe(true)
    expect(j.consensusProfile).toBe('consensus-v2')
    expect(j.providers.find((p) => p.provider === j.auto)?.available).toBe(true)
  })

  it('flops --json matches torchvision for resnet18 and prints a per-op table without --json', async () => {
    const r = await lattice('flops', '--model', 'test/fixtures/torchvision/resnet18.onnx', '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as { flops: number; macs: number; params: number; byOp: Record<string, unknown> }
    expect(Object.keys(j).sort()).toEqual(['byOp', 'flops', 'macs', 'params'])
    expect(Math.abs(j.macs / 1e9 - TORCHVISION_GMACS.resnet18) / TORCHVISION_GMACS.resnet18).toBeLessThan(0.005)
    const t = await lattice('flops', '--model', iris, '--input', 'x=2x4')
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/^FLOPs\s+\d/m)
    expect(t.stdout).toMatch(/^MatMul\s+1\s+48\s+24/m)
  })

  it('flops explains how to fix bad invocations', async () => {
    const missing = await lattice('flops', '--model', join(dir, 'nope.onnx'))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('No model at')
    expect(missing.stderr).toContain('Pass --model with a path to an .onnx file.')
    const dyn = await lattice('flops', '--model', iris)
    expect(dyn.code).toBe(1)
    expect(dyn.stderr).toContain('input "x" has dynamic shape [N,4]; pass its concrete shape (e.g. --input x=1x4)')
  })

  it('infer runs JSON tensors (bare arrays too) and writes outputs that parse back exactly', async () => {
    const input = join(dir, 'in.json')
    writeFileSync(
      input,
      JSON.stringify({
        inputs: {
          x: [
            [5.1, 3.5, 1.4, 0.2],
            [6.9, 3.1, 5.4, 2.1],
          ],
        },
      }),
    )
    const out = join(dir, 'out.json')
    const r = await lattice('infer', '--model', iris, '--input', input, '--output', out)
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('profile consensus-v2 (onnxruntime-web 1.30.0, WebAssembly')
    const j = JSON.parse(readFileSync(out, 'utf8')) as {
      outputs: Record<string, { dtype: string; shape: number[]; data: number[] }>
    }
    expect(j.outputs.class).toEqual({ dtype: 'int64', shape: [2], data: [0, 2] })
    expect(j.outputs.probabilities.shape).toEqual([2, 3])
    // each printed float parses (through Math.fround) back to the exact float32 an in-process run gives
    const s = await createConsensusSession({ model: buildIrisModel() })
    const [p] = await s.run([tensorFromValues('x', DType.float32, [2, 4], [5.1, 3.5, 1.4, 0.2, 6.9, 3.1, 5.4, 2.1])])
    expect(j.outputs.probabilities.data.map((v) => Math.fround(v))).toEqual(tensorValues(p))
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ inputs: { x: { dtype: 'float32', shape: [1, 3], data: [1, 2, 3] } } }))
    const e = await lattice('infer', '--model', iris, '--input', bad)
    expect(e.code).toBe(1)
    expect(e.stderr).toContain('input "x" has shape [1,3] but the model needs [N,4]')
  })
})
