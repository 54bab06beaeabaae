// eth_estimateGas of an inference transaction is exactly the gas it then uses, for every example model (issue 13),
// and an adversarial graph is refused before any work.
import { getBytes, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exampleModels } from '../../examples/models/index.ts'
import { createFlopCounter } from '../../src/inference/flops.ts'
import { INFERENCE_GAS } from '../../src/precompiles/params.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { recipeModel } from '../helpers/gas-models.ts'
import { abiTensor, deployModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

describe('inference gas on a real devnet', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    wallet = new Wallet(KEY0, provider)
  }, 240_000)
  afterAll(async () => {
    provider.destroy()
    await devnet?.stop()
  }, 240_000)

  for (const m of exampleModels()) {
    it(`eth_estimateGas equals the gas used: ${m.name}`, { timeout: 180_000 }, async () => {
      const { modelId } = await deployModel(devnet.store, wallet, m.bytes, { name: `gas-${m.name}` })
      const data = inferenceAbi.encodeFunctionData('infer', [modelId, m.sampleInput.map(abiTensor)])
      const estimate = await provider.estimateGas({ from: wallet.address, to: INFERENCE, data })
      const receipt = await (await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: estimate })).wait()
      expect(receipt?.status).toBe(1)
      expect(receipt?.gasUsed).toBe(estimate)
    })
  }

  it('an Expand to 1e9 elements reverts before any work, naming the node and the limit', {
    timeout: 180_000,
  }, async () => {
    const model = recipeModel('expand', { n: 1e9 })
    const { modelId } = await deployModel(devnet.store, wallet, model, { name: 'gas-expand-1e9' })
    const x = { name: 'x', dtype: 1, shape: [1], data: new Uint8Array(4) }
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const rssBefore = process.memoryUsage().rss
    await expect(provider.call({ from: wallet.address, to: INFERENCE, data })).rejects.toThrow(
      /Expand_0.{0,4} \(Expand\) needs 3\.7 GiB of live tensors.*the per-call limit is 256 MiB/,
    )
    // nothing ran: a 4 GB tensor was never allocated
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024)
  })

  it('a call refused while counting pays the base and the counting gas, charged before counting', {
    timeout: 180_000,
  }, async () => {
    // 1,999 convolutions, then an Expand to 1e9 bytes: the memory bound refuses it at the last node
    const model = recipeModel('refusedChain', { nodes: 2000 })
    const { modelId } = await deployModel(devnet.store, wallet, model, { name: 'gas-refused-chain' })
    const countGas = createFlopCounter({ model }).countGas
    expect(countGas).toBeGreaterThan(INFERENCE_GAS.base)
    const x = { name: 'x', dtype: 1, shape: [1, 4, 2, 2], data: new Uint8Array(64) }
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const bytes = getBytes(data)
    const zeros = bytes.filter((b) => b === 0).length
    // EIP-2028 calldata: 4 gas per zero byte, 16 per other byte (over EIP-7623's floor here)
    const intrinsic = 21_000n + 4n * BigInt(zeros) + 16n * BigInt(bytes.length - zeros)
    const tx = await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: 2_000_000n })
    await tx.wait().catch(() => undefined)
    const receipt = await provider.getTransactionReceipt(tx.hash)
    expect(receipt?.status).toBe(0)
    expect(receipt?.gasUsed).toBe(intrinsic + INFERENCE_GAS.base + countGas)
    await expect(provider.call({ from: wallet.address, to: INFERENCE, data })).rejects.toThrow(
      /Expand_1999.{0,4} \(Expand\) needs 954 MiB of live tensors/,
    )
    // a gas limit short of the counting gas stops the call before it counts anything
    await expect(
      provider.call({ from: wallet.address, to: INFERENCE, data, gasLimit: intrinsic + INFERENCE_GAS.base + 1000n }),
    ).rejects.toThrow(/out of gas: counting model/)
  })
})
