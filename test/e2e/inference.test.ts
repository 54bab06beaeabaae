import { Contract, ContractFactory, JsonRpcProvider, keccak256, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import type { Tensor } from '../../src/inference/tensor.ts'
import { DType, fixedCode, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'
import { encodeTensors } from '../../src/precompiles/abi.ts'
import { INFERENCE_GAS } from '../../src/precompiles/params.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, startTestDevnet } from '../helpers/devnet.ts'
import {
  abiTensor,
  deployModel,
  exampleModel,
  INFERENCE,
  inferenceAbi,
  REGISTRY,
  registryAbi,
} from '../helpers/models.ts'
import { compileContract, REPO_ROOT } from '../helpers/solc.ts'

const fromAbi = (t: any): Tensor => ({
  name: t.name,
  dtype: Number(t.dtype),
  shape: t.shape.map(Number),
  data: new Uint8Array(Buffer.from(t.data.slice(2), 'hex')),
})

describe('the inference precompile on a real devnet', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet
  let iris: Awaited<ReturnType<typeof deployModel>>
  const irisModel = exampleModel('iris')

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    wallet = new Wallet(KEY0, provider)
    iris = await deployModel(devnet.store, wallet, irisModel.bytes, { name: 'iris' })
  })
  afterAll(async () => {
    provider.destroy()
    await devnet.stop()
  })

  it('a contract runs the model in a mined transaction and decodes the answer', async () => {
    const { abi, bytecode } = compileContract(`${REPO_ROOT}examples/contracts/IrisClassifier.sol`, 'IrisClassifier')
    const c = (await new ContractFactory(abi, bytecode, wallet).deploy(iris.modelId)) as any
    await c.waitForDeployment()
    // a setosa: short, wide sepals and tiny petals
    const tx = await c.classify([51000n, 35000n, 14000n, 2000n])
    const receipt = await tx.wait()
    expect(receipt.status).toBe(1)
    expect(await c.lastLabel()).toBe('setosa')
    expect(await c.lastConfidence()).toBeGreaterThan(5000n)
    // a virginica
    await (await c.classify([67000n, 30000n, 52000n, 23000n])).wait()
    expect(await c.lastLabel()).toBe('virginica')
    expect(await c.classifications()).toBe(2n)

    // the block keeps one inference record for that transaction
    const records = await devnet.node.chain.getInferenceRecords(Buffer.from(receipt.blockHash.slice(2), 'hex'))
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ txHash: receipt.hash, txIndex: 0, index: 0, modelId: iris.modelId })
    expect(records[0].flops).toBeGreaterThan(0n)
  })

  it('outputs are the exact bytes of a direct ONNX Runtime run under the consensus profile', async () => {
    const x = tensorFromValues('x', DType.float32, [2, 4], [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3])
    const data = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
    const ret = await provider.call({ to: INFERENCE, data })
    const [outputs] = inferenceAbi.decodeFunctionResult('infer', ret)
    const got = outputs.map(fromAbi)
    const session = await createConsensusSession({ model: irisModel.bytes })
    const want = await session.run([x])
    await session.dispose()
    expect(got.map((t: Tensor) => t.name)).toEqual(want.map((t) => t.name))
    for (let i = 0; i < want.length; i++) {
      expect(Buffer.from(got[i].data).equals(Buffer.from(want[i].data))).toBe(true)
      expect(got[i].shape).toEqual(want[i].shape)
    }
    // and in a mined transaction, the record's output hash is the hash of those bytes
    const sent = await wallet.sendTransaction({ to: INFERENCE, data })
    const receipt = await sent.wait()
    const [rec] = await devnet.node.chain.getInferenceRecords(Buffer.from(receipt!.blockHash.slice(2), 'hex'))
    expect(rec.outputHash).toBe(keccak256(encodeTensors(want)))
    expect(rec.inputHash).toBe(keccak256(encodeTensors([x])))
  })

  it('fixed-point in, fixed-point out', async () => {
    const x = tensorFromValues('x', fixedCode(6), [1, 4], [5_100_000n, 3_500_000n, 1_400_000n, 200_000n])
    const ret = await provider.call({
      to: INFERENCE,
      data: inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]]),
    })
    const [outputs] = inferenceAbi.decodeFunctionResult('infer', ret)
    const probs = fromAbi(outputs[0])
    expect(probs.dtype).toBe(fixedCode(6))
    const values = tensorValues(probs) as bigint[]
    expect(values).toHaveLength(3)
    const sum = values.reduce((a, b) => a + b, 0n)
    expect(sum > 990_000n && sum < 1_010_000n).toBe(true)
  })

  it('estimate gives FLOPs and gas without running, and eth_estimateGas is enough', async () => {
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const est = inferenceAbi.decodeFunctionResult(
      'estimate',
      await provider.call({
        to: INFERENCE,
        data: inferenceAbi.encodeFunctionData('estimate', [iris.modelId, [abiTensor(x)]]),
      }),
    )
    expect(est.flops).toBeGreaterThan(0n)
    expect(est.gas).toBeGreaterThan(INFERENCE_GAS.base)
    const data = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
    const gas = await provider.estimateGas({ from: wallet.address, to: INFERENCE, data })
    const receipt = await (await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: gas })).wait()
    expect(receipt?.status).toBe(1)
  })

  it('inferBatch returns one output set per item, cheaper than separate calls', async () => {
    const items = Array.from({ length: 16 }, (_, i) => [
      tensorFromValues('x', DType.float32, [1, 4], [5 + i / 10, 3.2, 1.5 + i / 5, 0.3 + i / 20]),
    ])
    const batchData = inferenceAbi.encodeFunctionData('inferBatch', [
      iris.modelId,
      items.map((it) => it.map(abiTensor)),
    ])
    const [batchOut] = inferenceAbi.decodeFunctionResult(
      'inferBatch',
      await provider.call({ to: INFERENCE, data: batchData }),
    )
    expect(batchOut).toHaveLength(16)
    // one session run over the stacked [16,4] batch (kernels for 16 rows may round differently from 1 row)
    const session = await createConsensusSession({ model: irisModel.bytes })
    const stacked = tensorFromValues(
      'x',
      DType.float32,
      [16, 4],
      items.flatMap((it) => tensorValues(it[0]) as number[]),
    )
    const [probs] = await session.run([stacked])
    await session.dispose()
    for (let i = 0; i < 16; i++) {
      const got = fromAbi(batchOut[i][0])
      expect(got.shape).toEqual([1, 3])
      expect(Buffer.from(got.data).equals(Buffer.from(probs.data.subarray(i * 12, (i + 1) * 12)))).toBe(true)
    }
    const batchGas = await provider.estimateGas({ from: wallet.address, to: INFERENCE, data: batchData })
    const oneGas = await provider.estimateGas({
      from: wallet.address,
      to: INFERENCE,
      data: inferenceAbi.encodeFunctionData('infer', [iris.modelId, items[0].map(abiTensor)]),
    })
    expect(batchGas).toBeLessThan(oneGas * 16n)
  })

  it('a paid inference through ModelRegistry traces as it ran (the precompile sees the registry as caller)', async () => {
    const paid = await deployModel(devnet.store, wallet, irisModel.bytes, { name: 'iris-paid', price: 1000n })
    const registry = new Contract(REGISTRY, registryAbi, wallet)
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const receipt = await (await registry.infer(paid.modelId, [abiTensor(x)], { value: 1000n })).wait()
    expect(receipt.status).toBe(1)
    const trace = await provider.send('debug_traceTransaction', [receipt.hash, { tracer: 'callTracer' }])
    expect(trace.error).toBeUndefined()
    const inner = trace.calls?.find((c: any) => c.to?.toLowerCase() === INFERENCE.toLowerCase())
    expect(inner).toBeDefined()
    expect(inner.error).toBeUndefined()
  })
})
