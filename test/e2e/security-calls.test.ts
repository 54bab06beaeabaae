// Issue 11 items 1, 3, 6 and 9 (part), replayed as an attacker would against a real in-process devnet.
import { randomBytes } from 'node:crypto'
import { Contract, ContractFactory, Interface, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { checkpointDepth } from '../../src/chain/checkpoints.ts'
import { TRACE_LIMITS } from '../../src/chain/trace.ts'
import { buildModel, ElemType } from '../../src/inference/builder.ts'
import { DType, fixedCode, tensorFromValues } from '../../src/inference/tensor.ts'
import { INFERENCE_LIMITS } from '../../src/precompiles/params.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
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

const INT256_MAX = (1n << 255n) - 1n
const errorIface = new Interface(['error Error(string)'])
const CALLER_SOL = `${REPO_ROOT}test/fixtures/PrecompileCaller.sol`

describe('security: calls that once broke the node', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet
  let iris: Awaited<ReturnType<typeof deployModel>>
  /** infer(iris, [x: fixed0 [1,4] = int256.max ×4]): the model's softmax gives NaN, which has no fixed-point form. */
  let nanCall: string

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    wallet = new Wallet(KEY0, provider)
    iris = await deployModel(devnet.store, wallet, exampleModel('iris').bytes, { name: 'iris' })
    const x = tensorFromValues('x', fixedCode(0), [1, 4], [INT256_MAX, INT256_MAX, INT256_MAX, INT256_MAX])
    expect(x.dtype).toBe(128)
    nanCall = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
  }, 180_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })
  afterEach(() => {
    // item 1: whatever a test did, the chain's VM has no state checkpoint left open
    expect(checkpointDepth(devnet.node.chain.vm)).toBe(0)
  })

  async function balancesAnswerAtEveryBlock(): Promise<void> {
    const head = Number((await rpc(devnet.url, 'eth_blockNumber')).result)
    for (let n = 0; n <= head; n++) {
      const r = await rpc(devnet.url, 'eth_getBalance', [ADDR1, `0x${n.toString(16)}`])
      expect(r.error, `eth_getBalance at block ${n}`).toBeUndefined()
    }
  }

  it('item 1/3: the fixed-point NaN eth_call reverts with its reason, and state keeps being written', async () => {
    const r = await rpc(devnet.url, 'eth_call', [{ to: INFERENCE, data: nanCall }])
    expect(r.error.code).toBe(3)
    expect(r.error.message).toMatch(/tensor "probabilities" value NaN has no fixed-point form/)
    const before = BigInt((await rpc(devnet.url, 'eth_getBalance', [ADDR1, 'latest'])).result)
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x7b' }])
    expect(sent.error).toBeUndefined()
    expect(BigInt((await rpc(devnet.url, 'eth_getBalance', [ADDR1, 'latest'])).result)).toBe(before + 123n)
    await balancesAnswerAtEveryBlock()
  }, 120_000)

  it('item 3: a transaction whose inference fails deterministically is mined as a revert that pays the planned gas', async () => {
    const [, planned] = inferenceAbi.decodeFunctionResult(
      'estimate',
      (
        await rpc(devnet.url, 'eth_call', [
          {
            to: INFERENCE,
            data: inferenceAbi.encodeFunctionData('estimate', [
              iris.modelId,
              inferenceAbi.decodeFunctionData('infer', nanCall)[1],
            ]),
          },
        ])
      ).result,
    )
    const nonce = await provider.getTransactionCount(ADDR0)
    const gasLimit = 2_000_000n
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [
      { from: ADDR0, to: INFERENCE, data: nanCall, gas: `0x${gasLimit.toString(16)}` },
    ])
    expect(sent.error).toBeUndefined()
    const receipt = await rpc(devnet.url, 'eth_getTransactionReceipt', [sent.result])
    expect(receipt.result.status).toBe('0x0')
    const used = BigInt(receipt.result.gasUsed)
    // intrinsic gas plus exactly the planned inference gas: more than a bare revert, less than all of it
    expect(used).toBeGreaterThan(21_000n + (planned as bigint) - 1n)
    expect(used).toBeLessThan(gasLimit)
    expect(await provider.getTransactionCount(ADDR0)).toBe(nonce + 1)
    const trace = await rpc(devnet.url, 'debug_traceTransaction', [sent.result, { tracer: 'callTracer' }])
    expect(trace.result.revertReason).toMatch(/no fixed-point form/)
  }, 120_000)

  it('item 3: an ONNX Runtime error at run time (Gather out of bounds) reverts with the reason and is mined', async () => {
    // 65 indices: more than the FLOP counter looks at, so only the run finds index 1000 out of bounds
    const model = buildModel({
      inputs: [{ name: 'i', elemType: ElemType.int64, shape: [65] }],
      outputs: [{ name: 'y', elemType: ElemType.float32, shape: [65] }],
      initializers: [{ name: 'table', elemType: ElemType.float32, dims: [4], data: Float32Array.of(1, 2, 3, 4) }],
      nodes: [{ op: 'Gather', inputs: ['table', 'i'], outputs: ['y'] }],
    })
    const { modelId } = await deployModel(devnet.store, wallet, model, { name: 'gather-oob' })
    const idx = tensorFromValues('i', DType.int64, [65], [...Array(64).fill(0n), 1000n])
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(idx)]])
    const r = await rpc(devnet.url, 'eth_call', [{ to: INFERENCE, data }])
    expect(r.error.code).toBe(3)
    expect(r.error.message).toMatch(/^execution reverted: inference failed: .*(out of bounds|out of range|indices)/i)
    const nonce = await provider.getTransactionCount(ADDR0)
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: INFERENCE, data, gas: '0x1e8480' }])
    expect(sent.error).toBeUndefined()
    expect((await rpc(devnet.url, 'eth_getTransactionReceipt', [sent.result])).result.status).toBe('0x0')
    expect(await provider.getTransactionCount(ADDR0)).toBe(nonce + 1)
  }, 120_000)

  it('item 1: a model this node cannot get refuses the call and the transaction, and the node stays healthy', async () => {
    // a real package CID with a digest that no package has: the bytes cannot be verified here
    const registry = new Contract(REGISTRY, registryAbi, wallet)
    const spec = {
      name: 'unobtainable',
      version: '1',
      cid: iris.cid,
      digest: `0x${randomBytes(32).toString('hex')}`,
      commitment: iris.commitment,
      format: 'onnx',
      io: '',
      policy: 0,
      price: 0n,
    }
    await (await registry.register(spec)).wait()
    const modelId = await registry.modelIdOf(ADDR0, spec.name, spec.version)
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const call = await rpc(devnet.url, 'eth_call', [{ to: INFERENCE, data }])
    expect(call.error.code).toBe(-32000)
    expect(call.error.message).toMatch(/is not available on this node/)
    const estimate = await rpc(devnet.url, 'eth_estimateGas', [{ from: ADDR0, to: INFERENCE, data }])
    expect(estimate.error.message).toMatch(/is not available on this node/)

    const head = (await rpc(devnet.url, 'eth_blockNumber')).result
    const nonce = await provider.getTransactionCount(ADDR0)
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: INFERENCE, data, gas: '0x1e8480' }])
    expect(sent.error.message).toMatch(/is not available on this node/)
    // refused: not included, nonce unchanged, no block
    expect((await rpc(devnet.url, 'eth_blockNumber')).result).toBe(head)
    expect(await provider.getTransactionCount(ADDR0)).toBe(nonce)
    const ok = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
    expect(ok.error).toBeUndefined()
    expect(await provider.getTransactionCount(ADDR0)).toBe(nonce + 1)
    expect(devnet.inference.stats.localFailures).toBeGreaterThan(0)

    // a contract that catches the precompile's failure cannot turn it into a result: the whole call is refused
    const { abi, bytecode } = compileContract(CALLER_SOL, 'PrecompileCaller')
    const c = (await new ContractFactory(abi, bytecode, wallet).deploy()) as Contract
    await c.waitForDeployment()
    const wrapped = c.interface.encodeFunctionData('viaCall', [data])
    const inner = await rpc(devnet.url, 'eth_call', [{ to: await c.getAddress(), data: wrapped }])
    expect(inner.error.code).toBe(-32000)
    expect(inner.error.message).toMatch(/is not available on this node/)
    const innerTx = await rpc(devnet.url, 'eth_sendTransaction', [
      { from: ADDR0, to: await c.getAddress(), data: wrapped, gas: '0x1e8480' },
    ])
    expect(innerTx.error.message).toMatch(/is not available on this node/)

    // in a block with other transactions: that one is left out, the rest are mined
    expect((await rpc(devnet.url, 'evm_setAutomine', [false])).error).toBeUndefined()
    try {
      const bad = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: INFERENCE, data, gas: '0x1e8480' }])
      const good = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR1, to: ADDR0, value: '0x1' }])
      expect(bad.error).toBeUndefined()
      expect(good.error).toBeUndefined()
      expect((await rpc(devnet.url, 'evm_mine')).error).toBeUndefined()
      const block = (await rpc(devnet.url, 'eth_getBlockByNumber', ['latest', false])).result
      expect(block.transactions).toEqual([good.result])
      expect((await rpc(devnet.url, 'eth_getTransactionReceipt', [bad.result])).result).toBeNull()
      expect((await rpc(devnet.url, 'eth_getTransactionReceipt', [good.result])).result.status).toBe('0x1')
      expect((await rpc(devnet.url, 'txpool_status')).result.pending).toBe('0x0')
    } finally {
      await rpc(devnet.url, 'evm_setAutomine', [true])
    }
    await balancesAnswerAtEveryBlock()
  }, 120_000)

  it('item 6: an output of 50M float32 is refused before allocation, naming the tensor, and the node stays up', async () => {
    const n = 50_000_000
    const model = buildModel({
      inputs: [{ name: 'x', elemType: ElemType.float32, shape: [1] }],
      outputs: [{ name: 'huge', elemType: ElemType.float32, shape: [n] }],
      initializers: [{ name: 'shape', elemType: ElemType.int64, dims: [1], data: BigInt64Array.of(BigInt(n)) }],
      nodes: [{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['huge'] }],
    })
    const { modelId } = await deployModel(devnet.store, wallet, model, { name: 'huge-output' })
    const x = tensorFromValues('x', DType.float32, [1], [1])
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const rss = process.memoryUsage().rss
    const r = await rpc(devnet.url, 'eth_call', [{ to: INFERENCE, data }])
    expect(r.error.code).toBe(3)
    expect(r.error.message).toContain(
      `output tensor "huge" of shape [${n}] would be ${n * 4} bytes, over the ${INFERENCE_LIMITS.maxOutputBytes}-byte limit`,
    )
    // refused before anything was allocated for it
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024)
    expect((await rpc(devnet.url, 'eth_blockNumber')).result).toMatch(/^0x/)
  }, 120_000)

  it('item 6: eth_simulateV1 keeps every call result, so their sum is bounded too', async () => {
    const n = 4 * 1024 * 1024 // 16 MiB of float32 per call: under the per-call cap
    const model = buildModel({
      inputs: [{ name: 'x', elemType: ElemType.float32, shape: [1] }],
      outputs: [{ name: 'big', elemType: ElemType.float32, shape: [n] }],
      initializers: [{ name: 'shape', elemType: ElemType.int64, dims: [1], data: BigInt64Array.of(BigInt(n)) }],
      nodes: [{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['big'] }],
    })
    const { modelId } = await deployModel(devnet.store, wallet, model, { name: 'big-output' })
    const x = tensorFromValues('x', DType.float32, [1], [1])
    const call = {
      from: ADDR0,
      to: INFERENCE,
      data: inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]]),
    }
    const one = await rpc(devnet.url, 'eth_simulateV1', [{ blockStateCalls: [{ calls: [call] }] }])
    expect(one.error).toBeUndefined()
    expect(one.result[0].calls[0].status).toBe('0x1')
    const five = await rpc(devnet.url, 'eth_simulateV1', [{ blockStateCalls: [{ calls: Array(5).fill(call) }] }])
    expect(five.error.message).toMatch(/over the 67108864-byte limit of one eth_simulateV1 request/)
  }, 180_000)

  it('item 6: a trace that would copy megabytes of memory at every step is refused, not run out of memory', async () => {
    const { abi, bytecode } = compileContract(CALLER_SOL, 'MemoryHog')
    const hog = (await new ContractFactory(abi, bytecode, wallet).deploy()) as Contract
    await hog.waitForDeployment()
    const tx = await hog.hog(1 << 18, 150, { gasLimit: 2_000_000 })
    await tx.wait()
    const big = await rpc(devnet.url, 'debug_traceTransaction', [tx.hash, { enableMemory: true }])
    expect(big.error.message).toContain(`over the ${TRACE_LIMITS.maxBytes}-byte limit of one trace request`)
    const plain = await rpc(devnet.url, 'debug_traceTransaction', [tx.hash, { disableStack: true }])
    expect(plain.result.failed).toBe(false)
    expect(plain.result.structLogs.length).toBeGreaterThan(500)
  }, 180_000)

  it('item 9: the precompile refuses DELEGATECALL and CALLCODE, so a contract cannot borrow its caller (the owner)', async () => {
    const priv = await deployModel(devnet.store, wallet, exampleModel('iris').bytes, {
      name: 'iris-private',
      policy: 1,
    })
    const { abi, bytecode } = compileContract(CALLER_SOL, 'PrecompileCaller')
    const c = (await new ContractFactory(abi, bytecode, wallet).deploy()) as Contract
    await c.waitForDeployment()
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const data = inferenceAbi.encodeFunctionData('infer', [priv.modelId, [abiTensor(x)]])
    // the owner calls the contract; the contract forwards in each way
    for (const [fn, want] of [
      ['viaDelegatecall', /cannot be reached with DELEGATECALL/],
      ['viaCallcode', /cannot be reached with CALLCODE/],
      ['viaCall', /not allowed to run model .* \(private to its owner\)/],
    ] as const) {
      const [ok, ret] = await c[fn].staticCall(data, { from: ADDR0 })
      expect(ok, fn).toBe(false)
      expect(errorIface.decodeErrorResult('Error', ret)[0]).toMatch(want)
    }
    // the owner itself, directly, still may
    const direct = await rpc(devnet.url, 'eth_call', [{ from: ADDR0, to: INFERENCE, data }])
    expect(direct.error).toBeUndefined()
  }, 120_000)

  it('item 9: state overrides may not rewrite ModelRegistry or the precompile (eth_call, eth_estimateGas, eth_simulateV1)', async () => {
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const call = {
      from: ADDR1,
      to: INFERENCE,
      data: inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]]),
    }
    const slot = `0x${'00'.repeat(32)}`
    const overrides = [
      { [REGISTRY]: { stateDiff: { [slot]: slot } } },
      { [REGISTRY]: { state: { [slot]: slot } } },
      { [REGISTRY]: { code: '0x00' } },
      { [INFERENCE]: { code: '0x00' } },
    ]
    for (const o of overrides) {
      const r = await rpc(devnet.url, 'eth_call', [call, 'latest', o])
      expect(r.error?.code, JSON.stringify(o)).toBe(-32602)
      expect(r.error.message).toMatch(/state override of 0x[0-9a-fA-F]{40} is not allowed/)
      const e = await rpc(devnet.url, 'eth_estimateGas', [call, 'latest', o])
      expect(e.error?.code).toBe(-32602)
      const s = await rpc(devnet.url, 'eth_simulateV1', [{ blockStateCalls: [{ stateOverrides: o, calls: [call] }] }])
      expect(s.error?.code).toBe(-32602)
    }
    const moved = await rpc(devnet.url, 'eth_simulateV1', [
      { blockStateCalls: [{ stateOverrides: { [INFERENCE]: { movePrecompileToAddress: ADDR1 } }, calls: [call] }] },
    ])
    expect(moved.error?.code).toBe(-32602)
    // balances and other accounts may still be overridden
    const fine = await rpc(devnet.url, 'eth_call', [call, 'latest', { [ADDR1]: { balance: '0x1' } }])
    expect(fine.error).toBeUndefined()
  }, 120_000)

  it('item 9: eth_call with value checks the sender balance, as anvil does', async () => {
    const poor = Wallet.createRandom().address
    const r = await rpc(devnet.url, 'eth_call', [{ from: poor, to: ADDR1, value: '0x3e8' }])
    expect(r.error.code).toBe(-32000)
    expect(r.error.message).toBe(
      `insufficient funds for gas * price + value: address ${poor.toLowerCase()} have 0 want 1000`,
    )
    const e = await rpc(devnet.url, 'eth_estimateGas', [{ from: poor, to: ADDR1, value: '0x3e8' }])
    expect(e.error.message).toMatch(/insufficient funds for gas \* price \+ value/)
    // with the balance (here from an override) the same call passes
    const ok = await rpc(devnet.url, 'eth_call', [
      { from: poor, to: ADDR1, value: '0x3e8' },
      'latest',
      { [poor]: { balance: '0x3e8' } },
    ])
    expect(ok.error).toBeUndefined()
  }, 120_000)
})
