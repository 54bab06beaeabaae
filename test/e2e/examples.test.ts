import { ContractFactory, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeText, encodeText } from '../../examples/models/bigram.ts'
import { squareImage } from '../../examples/models/index.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import { DType, fixedCode, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { deployModel, exampleModel } from '../helpers/models.ts'
import { compileContract, REPO_ROOT } from '../helpers/solc.ts'

describe('example contracts on a real devnet', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    wallet = new Wallet(KEY0, provider)
  })
  afterAll(async () => {
    provider.destroy()
    await devnet.stop()
  })

  async function deploy(contract: string, modelId: string): Promise<any> {
    const { abi, bytecode } = compileContract(`${REPO_ROOT}examples/contracts/${contract}.sol`, contract)
    const c = (await new ContractFactory(abi, bytecode, wallet).deploy(modelId)) as any
    await c.waitForDeployment()
    return c
  }

  it('EdgeDetector counts edge pixels of an image, as a direct run says', async () => {
    const model = exampleModel('edges')
    const { modelId } = await deployModel(devnet.store, wallet, model.bytes, { name: 'edges' })
    const c = await deploy('EdgeDetector', modelId)
    const img = squareImage(8, 8)
    const rgbE2 = (tensorValues(img) as number[]).map((v) => BigInt(Math.round(v * 100)))
    const receipt = await (await c.score(rgbE2, 8, 8)).wait()
    expect(receipt.status).toBe(1)
    const count = await c.lastEdgePixels()

    const session = await createConsensusSession({ model: model.bytes })
    const [, edges] = await session.run([tensorFromValues('image', fixedCode(2), [1, 3, 8, 8], rgbE2)], {
      outputDecimals: 2,
    })
    await session.dispose()
    const want = (tensorValues(edges) as bigint[]).filter((v) => v > 50n).length
    expect(count).toBe(BigInt(want))
    // a square on a plain background: edges along its border, none in the flat middle or corners
    expect(count).toBeGreaterThan(0n)
    expect(count).toBeLessThan(64n)
    const log = receipt.logs.map((l: any) => c.interface.parseLog(l)).find((l: any) => l?.name === 'ImageScored')
    expect(log.args.edgePixels).toBe(count)
  })

  it('TextGenerator continues a prompt with the bigram model, token by token', async () => {
    const model = exampleModel('bigram')
    const { modelId } = await deployModel(devnet.store, wallet, model.bytes, { name: 'bigram' })
    const c = await deploy('TextGenerator', modelId)
    const receipt = await (await c.generate('the ', 12)).wait()
    expect(receipt.status).toBe(1)
    const text: string = await c.lastText()
    expect(text.startsWith('the ')).toBe(true)
    expect(text).toHaveLength(16)

    // the same greedy decoding, run directly
    const session = await createConsensusSession({ model: model.bytes })
    let last = encodeText('the ').at(-1)!
    const ids: number[] = []
    for (let i = 0; i < 12; i++) {
      const [, next] = await session.run([tensorFromValues('tokens', DType.int64, [1, 1], [BigInt(last)])])
      last = Number((tensorValues(next) as bigint[]).at(-1))
      ids.push(last)
    }
    await session.dispose()
    expect(text).toBe(`the ${decodeText(ids)}`)
    // twelve inferences in one transaction, twelve records
    const records = await devnet.node.chain.getInferenceRecords(Buffer.from(receipt.blockHash.slice(2), 'hex'))
    expect(records.map((r) => r.index)).toEqual([...Array(12).keys()])
  })
})
