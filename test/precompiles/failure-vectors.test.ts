import { readFileSync } from 'node:fs'
import { Contract, ContractFactory, Interface, JsonRpcProvider, keccak256, Wallet } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildModel, ElemType } from '../../src/inference/builder.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { INFERENCE_GAS } from '../../src/precompiles/params.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR1, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
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

interface Vector {
  name: string
  calldata: string
  expectedError: string
  /** Gas handed to the precompile (through GasProxy); absent: plenty (PLENTY). */
  gas?: number
  /** Gas the precompile consumes for this call (the callee frame's gasUsed through GasProxy). */
  expectedGas: number
  /** The call runs out of gas and consumes all it was handed (expectedGas is then `gas`). */
  consumesAllGas?: boolean
}

/** A call that succeeds: an example model on its sample input. */
interface SuccessVector {
  name: string
  /** The example model (deployed under this name by account #0). */
  model: string
  calldata: string
  /** keccak256 of the bytes the precompile returns. */
  expectedOutputHash: string
  expectedGas: number
}

/** Gas handed to the precompile by vectors that name none: far over any vector's cost. */
const PLENTY = 5_000_000

/** The failure cases the precompile defines (docs/precompile.md); each must have a vector. */
const REQUIRED_VECTORS = [
  'empty calldata',
  'unknown selector',
  'truncated ABI',
  'ABI offset out of range',
  'unknown model',
  'deprecated model',
  'caller not allowed: private model',
  'caller not allowed: allowlist',
  'unpaid priced model',
  'wrong dtype',
  'wrong shape',
  'wrong input name',
  'missing input',
  'data length does not match the shape',
  'oversized tensor',
  'dimension over 2^32',
  'too many tensors',
  'gas below the static cost',
  'gas below the base cost',
]

const { failures: vectors, successes } = JSON.parse(
  readFileSync(new URL('./failure-vectors.json', import.meta.url), 'utf8'),
) as { failures: Vector[]; successes: SuccessVector[] }
const errorIface = new Interface(['error Error(string)'])

interface CallFrame {
  gas: string
  gasUsed: string
  output?: string
  calls?: CallFrame[]
}

describe('inference precompile failure vectors', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let proxy: Contract

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    const wallet = new Wallet(KEY0, provider)
    const bytes = exampleModel('iris').bytes
    // the fixture models the vectors name (ids are deterministic: owner #0, name, version "1")
    await deployModel(devnet.store, wallet, bytes, { name: 'iris' })
    for (const s of successes) {
      if (s.model !== 'iris') await deployModel(devnet.store, wallet, exampleModel(s.model).bytes, { name: s.model })
    }
    const old = await deployModel(devnet.store, wallet, bytes, { name: 'iris-old' })
    await (await new Contract(REGISTRY, registryAbi, wallet).deprecate(old.modelId)).wait()
    await deployModel(devnet.store, wallet, bytes, { name: 'iris-private', policy: 1 })
    await deployModel(devnet.store, wallet, bytes, { name: 'iris-allowlist', policy: 2 })
    await deployModel(devnet.store, wallet, bytes, { name: 'iris-priced', price: 1000n })
    const { abi, bytecode } = compileContract(`${REPO_ROOT}test/fixtures/GasProxy.sol`, 'GasProxy')
    proxy = (await new ContractFactory(abi, bytecode, wallet).deploy()) as Contract
    await proxy.waitForDeployment()
  })
  afterAll(async () => {
    provider.destroy()
    await devnet.stop()
  })
  /** The precompile's frame when GasProxy hands it `gas` (debug_traceCall, callTracer): gas given and used. */
  async function throughProxy(
    calldata: string,
    gas: number,
  ): Promise<{ gas: number; gasUsed: number; output?: string }> {
    const data = proxy.interface.encodeFunctionData('forward', [INFERENCE, calldata, gas])
    const r = await rpc(devnet.url, 'debug_traceCall', [
      { from: ADDR1, to: await proxy.getAddress(), data, gas: '0x1000000' },
      'latest',
      { tracer: 'callTracer' },
    ])
    expect(r.error).toBeUndefined()
    const frames = (r.result as CallFrame).calls ?? []
    expect(frames).toHaveLength(1)
    const f = frames[0]
    return { gas: Number(f.gas), gasUsed: Number(f.gasUsed), output: f.output }
  }

  afterEach(async () => {
    expect((await rpc(devnet.url, 'eth_blockNumber')).result).toMatch(/^0x/)
  })

  it('a model with random ops is refused (validators would disagree)', async () => {
    const model = buildModel({
      inputs: [{ name: 'x', elemType: ElemType.float32, shape: [1, 4] }],
      outputs: [{ name: 'y', elemType: ElemType.float32, shape: [1, 4] }],
      nodes: [{ op: 'RandomUniformLike', inputs: ['x'], outputs: ['y'] }],
    })
    const wallet = new Wallet(KEY0, provider)
    const { modelId } = await deployModel(devnet.store, wallet, model, { name: 'dice' })
    const x = tensorFromValues('x', DType.float32, [1, 4], [1, 2, 3, 4])
    const r = await rpc(devnet.url, 'eth_call', [
      { to: INFERENCE, data: inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]]) },
    ])
    expect(r.error.code).toBe(3)
    expect(r.error.message).toMatch(/uses nondeterministic ops \(RandomUniformLike .*\) and cannot run on-chain/)
  })

  it('covers every failure case the precompile defines, each once', () => {
    const names = vectors.map((v) => v.name)
    expect(new Set(names).size).toBe(names.length)
    for (const required of REQUIRED_VECTORS) expect(names).toContain(required)
  })

  for (const v of vectors) {
    it(v.name, async () => {
      const runsBefore = devnet.inference.stats.runs
      if (v.gas !== undefined) {
        const gas = v.gas
        if (v.name === 'gas below the static cost') {
          // the vector's gas is one below what `estimate` says the call costs
          const est = inferenceAbi.decodeFunctionResult(
            'estimate',
            await provider.call({
              to: INFERENCE,
              data: `${inferenceAbi.getFunction('estimate')!.selector}${v.calldata.slice(10)}`,
            }),
          )
          expect(Number(est.gas)).toBe(gas + 1)
          expect(gas).toBeGreaterThan(Number(INFERENCE_GAS.base))
        }
        const oogBefore = devnet.inference.stats.outOfGas
        const [ok, ret] = await proxy.forward.staticCall(INFERENCE, v.calldata, gas)
        expect(ok).toBe(false)
        expect(ret).toBe('0x')
        expect(v.expectedError).toBe('out of gas')
        // this call, and only this one, ran out of gas inside the precompile
        expect(devnet.inference.stats.outOfGas).toBe(oogBefore + 1)
        // and it consumed all the gas it was handed
        expect(v.consumesAllGas).toBe(true)
        expect(v.expectedGas).toBe(gas)
        const frame = await throughProxy(v.calldata, gas)
        expect(frame.gas).toBe(gas)
        expect(frame.gasUsed).toBe(v.expectedGas)
      } else {
        const r = await rpc(devnet.url, 'eth_call', [{ from: ADDR1, to: INFERENCE, data: v.calldata }, 'latest'])
        expect(r.error?.code).toBe(3)
        const [reason] = errorIface.decodeErrorResult('Error', r.error.data)
        expect(reason).toContain(v.expectedError)
        expect(r.error.message).toBe(`execution reverted: ${reason}`)
        // the gas a revert keeps: handed plenty through GasProxy, it consumes exactly the expected figure
        const frame = await throughProxy(v.calldata, PLENTY)
        expect(frame.gas).toBe(PLENTY)
        expect(frame.gasUsed).toBe(v.expectedGas)
        expect(v.consumesAllGas).toBeUndefined()
        // as a mined transaction: reverted, no inference record
        const hash = await rpc(devnet.url, 'eth_sendTransaction', [
          { from: ADDR1, to: INFERENCE, data: v.calldata, gas: '0x100000' },
        ])
        const receipt = (await rpc(devnet.url, 'eth_getTransactionReceipt', [hash.result])).result
        expect(receipt.status).toBe('0x0')
        expect(await devnet.node.chain.getInferenceRecords(Buffer.from(receipt.blockHash.slice(2), 'hex'))).toEqual([])
      }
      // no vector ever reaches a session run
      expect(devnet.inference.stats.runs).toBe(runsBefore)
    })
  }

  for (const s of successes) {
    it(`success: ${s.name}`, async () => {
      const runsBefore = devnet.inference.stats.runs
      const r = await rpc(devnet.url, 'eth_call', [{ from: ADDR1, to: INFERENCE, data: s.calldata }, 'latest'])
      expect(r.error).toBeUndefined()
      expect(keccak256(r.result)).toBe(s.expectedOutputHash)
      const frame = await throughProxy(s.calldata, PLENTY)
      expect(frame.gasUsed).toBe(s.expectedGas)
      expect(frame.output && keccak256(frame.output)).toBe(s.expectedOutputHash)
      // both calls ran the model (a session run, not a cached answer)
      expect(devnet.inference.stats.runs).toBe(runsBefore + 2)
    })
  }
})
