// The model workflow through the real CLI (`node bin/lattice.js ...` in child processes) against real devnets.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Contract, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatTensorJson, parseTensorJson } from '../../src/inference/json.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { exampleModel } from '../helpers/models.ts'
import { REPO_ROOT } from '../helpers/solc.ts'

const exec = promisify(execFile)
const LATTICE = join(REPO_ROOT, 'bin/lattice.js')
const TEST_MODEL = exampleModel('iris').bytes
const INPUT = {
  inputs: {
    x: [
      [5.1, 3.5, 1.4, 0.2],
      [6.9, 3.1, 5.4, 2.1],
    ],
  },
}

describe('model workflow through the CLI (Acceptance)', () => {
  let devnet: TestDevnet
  let cwd: string
  /** Run `lattice <args>` as a user would, in `cwd`, with the devnet's URL and a dev key in the environment. */
  const lattice = async (...args: string[]) => {
    try {
      const { stdout } = await exec('node', [LATTICE, ...args], {
        cwd,
        env: { ...process.env, LATTICE_RPC_URL: devnet.url, LATTICE_PRIVATE_KEY: KEY0 },
      })
      return stdout
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string }
      throw new Error(`lattice ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`)
    }
  }

  beforeAll(async () => {
    devnet = await startTestDevnet()
    cwd = mkdtempSync(join(tmpdir(), 'lattice-workflow-'))
    writeFileSync(join(cwd, 'test_model.onnx'), TEST_MODEL)
    writeFileSync(join(cwd, 'input.json'), JSON.stringify(INPUT))
  })
  afterAll(async () => {
    await devnet?.stop()
    if (cwd) rmSync(cwd, { recursive: true, force: true })
  })

  it('deploy, list, info, inference: the result equals a direct ONNX Runtime run', async () => {
    const deployed = await lattice(
      'model',
      'deploy',
      '--model',
      'test_model.onnx',
      '--name',
      'Test Model',
      '--access-policy',
      'public',
    )
    const modelId = /Model id:\s+(0x[0-9a-f]{64})/.exec(deployed)?.[1]
    expect(modelId).toBeDefined()
    expect(deployed).toMatch(/CID:\s+baf/)
    expect(deployed).toMatch(/Tx:\s+0x[0-9a-f]{64}/)

    const listed = await lattice('model', 'list')
    expect(listed).toContain(modelId)
    expect(listed).toContain('Test Model')

    const info = await lattice('model', 'info', '--model-id', modelId!)
    expect(info).toMatch(/Name:\s+Test Model/)
    expect(info).toMatch(/Policy:\s+public/)
    expect(info).toContain(`Owner:       ${ADDR0.toLowerCase()}`)

    await lattice('model', 'inference', '--model-id', modelId!, '--input', 'input.json', '--output', 'result.json')
    const result = JSON.parse(readFileSync(join(cwd, 'result.json'), 'utf8'))

    const session = await createConsensusSession({ model: TEST_MODEL })
    const direct = await session.run(parseTensorJson(INPUT, { model: session.inputs }))
    await session.dispose()
    expect(result).toEqual(JSON.parse(formatTensorJson(direct)))
    expect(result.outputs.class.data).toEqual([0, 2])
  })

  it('--json shapes: deploy gives ids and facts; inference --tx gives the receipt and outputs', async () => {
    const d = JSON.parse(
      await lattice(
        'model',
        'deploy',
        '--model',
        'test_model.onnx',
        '--name',
        'Test Model',
        '--version',
        '2',
        '--json',
      ),
    )
    expect(d).toMatchObject({ modelId: expect.stringMatching(/^0x[0-9a-f]{64}$/), cid: expect.any(String) })
    expect(d.digest).toMatch(/^0x[0-9a-f]{64}$/)
    expect(d.txHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(d).toHaveProperty('flops')
    const r = JSON.parse(
      await lattice('model', 'inference', '--model-id', d.modelId, '--input', 'input.json', '--tx', '--json'),
    )
    expect(r).toMatchObject({ txHash: expect.stringMatching(/^0x/), blockNumber: expect.any(Number), status: 1 })
    expect(BigInt(r.gasUsed)).toBeGreaterThan(21_000n)
    expect(r.outputs.class.data).toEqual([0, 2])
    // the run is on-chain: the index counts it
    expect((await rpc(devnet.url, 'lattice_getModel', [d.modelId])).result.runs).toBe(1)
  })

  it('registry operations: set-price makes inference pay through the registry; withdraw collects it', async () => {
    const d = JSON.parse(await lattice('model', 'deploy', '--model', 'test_model.onnx', '--name', 'Paid', '--json'))
    await lattice('model', 'set-price', '--model-id', d.modelId, '--price', '1000')
    expect((await rpc(devnet.url, 'lattice_getModel', [d.modelId])).result.price).toBe('1000')
    const r = JSON.parse(
      await lattice('model', 'inference', '--model-id', d.modelId, '--input', 'input.json', '--tx', '--json'),
    )
    expect(r.outputs.class.data).toEqual([0, 2])
    expect((await rpc(devnet.url, 'lattice_getModel', [d.modelId])).result.inferences).toBe('1')
    const w = JSON.parse(await lattice('model', 'withdraw', '--json'))
    expect(w.status).toBe(1)
    await lattice('model', 'deprecate', '--model-id', d.modelId)
    expect((await rpc(devnet.url, 'lattice_getModel', [d.modelId])).result.status).toBe('deprecated')
    // a failing operation explains itself and exits 1
    await expect(lattice('model', 'deprecate', '--model-id', `0x${'11'.repeat(32)}`)).rejects.toThrow(/UnknownModel/)
    await expect(lattice('model', 'deploy', '--model', 'nope.onnx', '--name', 'x')).rejects.toThrow(
      /No model at nope\.onnx\. Pass --model/,
    )
  })
})

describe('lattice devnet with models ready', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-devnet-examples-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** Start `lattice devnet` on a free port; resolves with its output once it listens. */
  function startDevnetProcess(): Promise<{ url: string; out: string; ms: number; stop(): Promise<void> }> {
    const t0 = performance.now()
    const child = spawn('node', [LATTICE, 'devnet', '--port', '0', '--datadir', join(dir, 'dd')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`devnet did not come up in 60 s:\n${out}`)), 60_000)
      child.stderr.on('data', (c) => (out += String(c)))
      child.stdout.on('data', (c) => {
        out += String(c)
        const m = /Listening on (http:\/\/[^ ]+)/.exec(out)
        if (m) {
          clearTimeout(timer)
          resolve({
            url: m[1],
            out,
            ms: performance.now() - t0,
            stop: () =>
              new Promise<void>((r) => {
                child.once('exit', () => r())
                child.kill('SIGINT')
              }),
          })
        }
      })
      child.once('exit', (code) => reject(new Error(`devnet exited with ${code}:\n${out}`)))
    })
  }

  it('deploys the example models and contracts on first start, and a contract runs a model', async () => {
    const first = await startDevnetProcess()
    try {
      console.log(`lattice devnet with examples on an empty datadir: up in ${Math.round(first.ms)} ms`)
      expect(first.out).toMatch(/Example models \(deployed in \d+ ms\)/)
      const models = (await rpc(first.url, 'lattice_listModels', [])).result.models
      expect(models.map((m: { name: string }) => m.name)).toEqual(['iris', 'edges', 'bigram'])
      const address = /IrisClassifier\s+(0x[0-9a-fA-F]{40})/.exec(first.out)?.[1]
      expect(address).toBeDefined()
      // the README's "from a contract" step: IrisClassifier runs the iris model inside a transaction
      const provider = new JsonRpcProvider(first.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
      provider.pollingInterval = 50
      const c = new Contract(
        address!,
        ['function classify(int256[] featuresE4) returns (uint256)', 'function lastLabel() view returns (string)'],
        new Wallet(KEY0, provider),
      )
      const receipt = await (await c.classify([51000n, 35000n, 14000n, 2000n])).wait()
      expect(receipt.status).toBe(1)
      expect(await c.lastLabel()).toBe('setosa')
      provider.destroy()
    } finally {
      await first.stop()
    }
    // a restart finds them there and does not deploy again
    const again = await startDevnetProcess()
    try {
      expect(again.out).toMatch(/Example models \(already deployed\)/)
      expect((await rpc(again.url, 'lattice_listModels', [])).result.total).toBe(3)
    } finally {
      await again.stop()
    }
  }, 120_000)
})
