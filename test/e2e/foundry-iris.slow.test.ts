// forge (npm @foundry-rs/forge-linux-amd64, solc-js as its compiler) runs examples/foundry: IrisClassifier with
// contracts/LatticeTest.sol, the precompile's answer computed by `lattice precompile-output` through vm.ffi from
// the model file, and from a devnet's eth_call. The test asserts the label the devnet's chain gives.
import { spawn } from 'node:child_process'
import { ContractFactory, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { deployModel, exampleModel, writeTemp } from '../helpers/models.ts'
import { compileContract, REPO_ROOT } from '../helpers/solc.ts'

const FORGE = `${REPO_ROOT}node_modules/.bin/forge`
/** The flower IrisClassifierTest classifies (4 decimals). */
const FLOWER = [51000n, 35000n, 14000n, 2000n]

/** Run forge without blocking the event loop: the devnet answering its eth_calls lives in this process. */
function forge(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(FORGE, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    // forge runs its tests in parallel threads and the ffi'd CLI loads ONNX Runtime: a loaded 2-core bound
    const timer = setTimeout(() => child.kill(), 240_000)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, out })
    })
  })
}

describe('forge test of a precompile caller (examples/foundry)', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  }, 120_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })

  it('IrisClassifier.classify under forge gives the label the chain gives', async () => {
    const wallet = new Wallet(KEY0, provider)
    const iris = exampleModel('iris')
    const { modelId } = await deployModel(devnet.store, wallet, iris.bytes, { name: 'iris' })
    const { abi, bytecode } = compileContract(`${REPO_ROOT}examples/contracts/IrisClassifier.sol`, 'IrisClassifier')
    const c = (await new ContractFactory(abi, bytecode, wallet).deploy(modelId)) as any
    await c.waitForDeployment()
    await (await c.classify(FLOWER)).wait()
    const chainLabel: string = await c.lastLabel()

    const env = {
      ...process.env,
      FOUNDRY_CONFIG: 'examples/foundry/foundry.toml',
      LATTICE_CLI: `${REPO_ROOT}bin/lattice.js`,
      IRIS_MODEL_FILE: writeTemp('iris.onnx', iris.bytes),
      IRIS_MODEL_ID: modelId,
      IRIS_EXPECTED_LABEL: chainLabel,
      LATTICE_RPC: devnet.url,
    }
    const args = ['test', '--offline', '--use', 'examples/foundry/solc.cjs']
    const { status, out } = await forge(args, env)
    expect(status, out).toBe(0)
    expect(out).toMatch(/\[PASS\] test_classify_runs_the_model_file\(\)/)
    expect(out).toMatch(/\[PASS\] test_classify_with_the_nodes_answer\(\)/)

    // and the test can fail: a label the chain did not give
    const wrong = chainLabel === 'setosa' ? 'virginica' : 'setosa'
    const bad = await forge([...args, '--match-test', 'model_file'], { ...env, IRIS_EXPECTED_LABEL: wrong })
    expect(bad.status).not.toBe(0)
    expect(bad.out).toMatch(/is not the expected one/)
  }, 540_000)
})
