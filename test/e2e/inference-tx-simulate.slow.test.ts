// `lattice model inference --tx` simulates the inference first: a run that would revert is refused with the
// reason and nothing is sent; `--force` sends it anyway (issue 18).
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { exampleModel } from '../helpers/models.ts'
import { REPO_ROOT } from '../helpers/solc.ts'

const exec = promisify(execFile)
const LATTICE = join(REPO_ROOT, 'bin/lattice.js')

describe('model inference --tx simulates first', () => {
  let devnet: TestDevnet
  let cwd: string
  let modelId: string
  /** `lattice <args>` in a child process: exit code, stdout, stderr. */
  const lattice = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec('node', [LATTICE, ...args], {
        cwd,
        env: { ...process.env, LATTICE_RPC_URL: devnet.url, LATTICE_PRIVATE_KEY: KEY0 },
      })
      return { code: 0, stdout, stderr }
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string }
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
    }
  }
  const nonce = async () => Number((await rpc(devnet.url, 'eth_getTransactionCount', [ADDR0, 'latest'])).result)

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'lattice-infer-sim-'))
    writeFileSync(join(cwd, 'iris.onnx'), exampleModel('iris').bytes)
    // three features where the model takes four: the tensor file parses, the precompile reverts on the shape
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ inputs: { x: [[5.1, 3.5, 1.4]] } }))
    writeFileSync(join(cwd, 'good.json'), JSON.stringify({ inputs: { x: [[5.1, 3.5, 1.4, 0.2]] } }))
    devnet = await startTestDevnet()
    const d = await lattice('model', 'deploy', '--model', 'iris.onnx', '--name', 'iris-sim', '--json')
    expect(d.stderr).toBe('')
    modelId = JSON.parse(d.stdout).modelId
  }, 180_000)
  afterAll(async () => {
    await devnet?.stop()
    rmSync(cwd, { recursive: true, force: true })
  })

  it('refuses a reverting run with the reason and sends nothing', async () => {
    const before = await nonce()
    const r = await lattice('model', 'inference', '--model-id', modelId, '--input', 'bad.json', '--tx')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/would revert \(simulated with eth_call from 0x/i)
    expect(r.stderr).toMatch(/shape/i)
    expect(r.stderr).toContain('--force')
    expect(await nonce()).toBe(before)
  }, 120_000)

  it('--force sends it anyway: mined, reverted, gas spent', async () => {
    const before = await nonce()
    const r = await lattice('model', 'inference', '--model-id', modelId, '--input', 'bad.json', '--tx', '--force')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/\(tx 0x[0-9a-f]{64}\).*revert/)
    expect(await nonce()).toBe(before + 1)
    const hash = /tx (0x[0-9a-f]{64})/.exec(r.stderr)![1]
    const receipt = (await rpc(devnet.url, 'eth_getTransactionReceipt', [hash])).result
    expect(receipt.status).toBe('0x0')
    expect(BigInt(receipt.gasUsed)).toBeGreaterThan(21_000n)
  }, 120_000)

  it('a run that simulates cleanly is sent once', async () => {
    const before = await nonce()
    const r = await lattice('model', 'inference', '--model-id', modelId, '--input', 'good.json', '--tx', '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 1, outputs: { class: { data: [0] } } })
    expect(await nonce()).toBe(before + 1)
  }, 120_000)
})
