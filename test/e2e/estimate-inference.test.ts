// eth_estimateGas of calls that reach the inference precompile runs each distinct inference once: the later
// executions of the search are charged the precompile's static gas and reuse the outputs (issue 15). The
// estimate still makes the transaction succeed, and for a direct call it is exactly the gas used.
import { ContractFactory, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { estimateMemoStats } from '../../src/chain/estimate-memo.ts'
import { DType } from '../../src/inference/tensor.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { recipeModel } from '../helpers/gas-models.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import { compileContract, REPO_ROOT } from '../helpers/solc.ts'

describe('eth_estimateGas runs each inference once', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    wallet = new Wallet(KEY0, provider)
  }, 180_000)
  afterAll(async () => {
    provider.destroy()
    await devnet?.stop()
  }, 180_000)

  it('a contract that calls the model: one run for the whole search; the estimate suffices', async () => {
    const iris = await deployModel(devnet.store, wallet, exampleModel('iris').bytes, { name: 'memo-iris' })
    const { abi, bytecode } = compileContract(`${REPO_ROOT}examples/contracts/IrisClassifier.sol`, 'IrisClassifier')
    const c = (await new ContractFactory(abi, bytecode, wallet).deploy(iris.modelId)) as any
    await c.waitForDeployment()
    const data = c.interface.encodeFunctionData('classify', [[67000n, 30000n, 52000n, 23000n]])
    const to = await c.getAddress()
    const before = { ...estimateMemoStats }
    const estimate = await provider.estimateGas({ from: wallet.address, to, data })
    const runs = estimateMemoStats.runs - before.runs
    const reused = estimateMemoStats.reused - before.reused
    console.log(
      `eth_estimateGas of IrisClassifier.classify: ${estimate} gas; inference ran ${runs}x, reused ${reused}x`,
    )
    expect(runs).toBe(1)
    // the search ran the call again (at least at the gas the first execution used) without running the model
    expect(reused).toBeGreaterThanOrEqual(1)
    const receipt = await (await wallet.sendTransaction({ to, data, gasLimit: estimate })).wait()
    expect(receipt?.status).toBe(1)
    expect(receipt!.gasUsed).toBeLessThanOrEqual(estimate)
    // within geth's 1.5% of the least gas that works
    expect(Number(estimate - receipt!.gasUsed)).toBeLessThan(Number(estimate) * 0.03)
    expect(await c.lastLabel()).toBe('virginica')
  }, 180_000)

  it('a direct call to a heavy model: one run, the estimate is exactly the gas used', async () => {
    // ~0.1 s of work per run: re-running it at each step would show
    const { modelId } = await deployModel(devnet.store, wallet, recipeModel('loop', { n: 1, trips: 20_000 }), {
      name: 'memo-loop',
    })
    const x = { name: 'x', dtype: DType.float32, shape: [1], data: new Uint8Array(new Float32Array([1]).buffer) }
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const before = { ...estimateMemoStats }
    const estimate = await provider.estimateGas({ from: wallet.address, to: INFERENCE, data })
    expect(estimateMemoStats.runs - before.runs).toBe(1)
    expect(estimateMemoStats.reused - before.reused).toBeGreaterThanOrEqual(1)
    const receipt = await (await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: estimate })).wait()
    expect(receipt?.status).toBe(1)
    expect(receipt?.gasUsed).toBe(estimate)
  }, 180_000)

  it('outside an estimate nothing is memoised (eth_call, blocks)', async () => {
    const { modelId } = await deployModel(devnet.store, wallet, recipeModel('loop', { n: 1, trips: 10 }), {
      name: 'memo-small',
    })
    const x = { name: 'x', dtype: DType.float32, shape: [1], data: new Uint8Array(new Float32Array([2]).buffer) }
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const before = { ...estimateMemoStats }
    const a = await provider.call({ to: INFERENCE, data })
    const b = await provider.call({ to: INFERENCE, data })
    expect(a).toBe(b)
    expect(estimateMemoStats).toEqual(before)
  }, 180_000)
})
