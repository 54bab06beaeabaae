// InferenceMarket (contracts/InferenceMarket.sol) on a real devnet with ethers: the predeploy's settings from the
// genesis, request -> claim -> window -> finalize with a solc-compiled consumer, the refusals, and both challenge
// outcomes settled by the precompile's consensus run and withinTolerance. Prints the gas table of
// docs/benchmarks.md ("Accelerated inference market").
import {
  AbiCoder,
  Contract,
  ContractFactory,
  type ContractTransactionReceipt,
  Interface,
  JsonRpcProvider,
  keccak256,
  parseEther,
  Wallet,
  ZeroAddress,
} from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contractAbi } from '../../src/chain/abi.ts'
import { fixedCode, tensorFromValues } from '../../src/inference/tensor.ts'
import { INFERENCE_MARKET_ADDRESS } from '../../src/precompiles/addresses.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, KEY1, rpc, startTestDevnet } from '../helpers/devnet.ts'
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

/** anvil/Hardhat accounts #2 and #3 (the devnet's mnemonic). */
const KEY2 = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'
const KEY3 = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'
const TENSORS = 'tuple(string name, uint8 dtype, uint64[] shape, bytes data)[]'
const coder = AbiCoder.defaultAbiCoder()
const Status = { None: 0n, Requested: 1n, Claimed: 2n, Finalized: 3n, Overturned: 4n, Cancelled: 5n }

type AbiTensor = [string, number, bigint[], string | Uint8Array]
const plain = (ts: any[]): AbiTensor[] => ts.map((t) => [t.name, Number(t.dtype), [...t.shape], t.data])
const hashOf = (ts: AbiTensor[]) => keccak256(coder.encode([TENSORS], [ts]))

const errorsOf = new Interface([
  ...(contractAbi('InferenceMarket') as any[]).filter((f) => f.type === 'error'),
  'error NotMarket(address caller)',
])

/** The custom error a failed call or gas estimate reverted with, by name. */
async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    const e = err as { revert?: { name?: string }; data?: string; reason?: string; shortMessage?: string }
    if (e.revert?.name) return e.revert.name
    const parsed = e.data ? errorsOf.parseError(e.data) : null
    return parsed?.name ?? e.reason ?? e.shortMessage ?? String(err)
  }
  throw new Error('the call did not revert')
}

describe('InferenceMarket on a real devnet', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let owner: Wallet // model owner and requester
  let executor: Wallet
  let challenger: Wallet
  let stranger: Wallet
  let market: Contract
  let consumer: Contract
  let iris: Awaited<ReturnType<typeof deployModel>>
  let window: bigint
  let bond: bigint
  const gas: Record<string, bigint> = {}
  const price = parseEther('0.01')
  const maxFee = parseEther('0.05')
  const setosa = [51000n, 35000n, 14000n, 2000n]
  const inputs: AbiTensor[] = [abiTensor(tensorFromValues('x', fixedCode(4), [1, 4], setosa)) as AbiTensor]

  const as = (w: Wallet) => market.connect(w) as Contract
  const mine = async (n: bigint) => {
    const r = await rpc(devnet.url, 'anvil_mine', [`0x${n.toString(16)}`])
    expect(r.error).toBeUndefined()
  }
  const wait = async (p: Promise<any>): Promise<ContractTransactionReceipt> => {
    const receipt = await (await p).wait()
    expect(receipt.status).toBe(1)
    return receipt
  }
  /** The consensus runtime's outputs for `inputs` (an eth_call of the precompile). */
  const consensus = async (modelId: string, ins: AbiTensor[]): Promise<AbiTensor[]> => {
    const ret = await provider.call({ to: INFERENCE, data: inferenceAbi.encodeFunctionData('infer', [modelId, ins]) })
    return plain(inferenceAbi.decodeFunctionResult('infer', ret)[0])
  }
  /** Outputs that say "virginica, for sure" whatever the truth: well-formed, wrong. */
  const lie = (honest: AbiTensor[]): AbiTensor[] => {
    const [name, dtype, shape] = honest[0]
    const data = coder.encode(['int256', 'int256', 'int256'], [0n, 0n, 10000n])
    return [[name, dtype, shape, data], ...honest.slice(1)]
  }
  const request = async (modelId = iris.modelId, callback = consumer.target as string) => {
    const receipt = await wait(as(owner).requestInference(modelId, inputs, callback, maxFee, { value: maxFee }))
    return { receipt, id: (await market.requestCount()) as bigint }
  }

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    owner = new Wallet(KEY0, provider)
    executor = new Wallet(KEY1, provider)
    challenger = new Wallet(KEY2, provider)
    stranger = new Wallet(KEY3, provider)
    market = new Contract(INFERENCE_MARKET_ADDRESS, contractAbi('InferenceMarket') as any[], provider)
    iris = await deployModel(devnet.store, owner, exampleModel('iris').bytes, { name: 'iris' })
    const { abi, bytecode } = compileContract(`${REPO_ROOT}examples/accelerated/IrisConsumer.sol`, 'IrisConsumer')
    consumer = (await new ContractFactory(abi, bytecode, owner).deploy(iris.modelId)) as unknown as Contract
    await consumer.waitForDeployment()
  }, 180_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })

  it('is predeployed with the devnet genesis settings (config.lattice.market)', async () => {
    expect((await provider.getCode(INFERENCE_MARKET_ADDRESS)).length).toBeGreaterThan(1000)
    window = await market.challengeWindow()
    bond = await market.challengeBond()
    expect(window).toBe(3n)
    expect(bond).toBe(parseEther('0.1'))
    expect(await market.minStake()).toBe(parseEther('1'))
    expect(await market.requestCount()).toBe(0n)
  })

  it('takes tolerances from model owners only, and requests only for models with one', async () => {
    expect(await revertName(as(owner).requestInference(iris.modelId, inputs, consumer.target, 0n))).toBe(
      'ToleranceNotSet',
    )
    expect(await revertName(as(stranger).setTolerance(iris.modelId, 1, 0, false))).toBe('NotModelOwner')
    const r = await wait(as(owner).setTolerance(iris.modelId, 1, 0, false))
    gas.setTolerance = r.gasUsed
    expect([...(await market.getTolerance(iris.modelId))]).toEqual([1n, 0n, false, true])
  }, 120_000)

  it('registers executors with at least minStake', async () => {
    expect(await revertName(as(executor).register('cpu', price, { value: parseEther('0.5') }))).toBe('StakeTooLow')
    expect(await revertName(as(executor).register('', price, { value: parseEther('1') }))).toBe('InvalidProvider')
    const r = await wait(as(executor).register('cpu', price, { value: parseEther('1') }))
    gas.register = r.gasUsed
    const e = await market.getExecutor(executor.address)
    expect(e.stake).toBe(parseEther('1'))
    expect(e.price).toBe(price)
    expect(e.provider).toBe('cpu')
    expect(e.active).toBe(true)
  }, 120_000)

  it('request -> claim -> window -> finalize: the callback stores the outputs, fees are credited and withdrawn', async () => {
    expect(
      await revertName(as(owner).requestInference(iris.modelId, inputs, consumer.target, maxFee, { value: 1n })),
    ).toBe('WrongPayment')
    const big: AbiTensor[] = [['x', 1, [1n, 262_145n], new Uint8Array(262_145 * 4)]]
    expect(await revertName(as(owner).requestInference.staticCall(iris.modelId, big, ZeroAddress, 0n))).toBe(
      'InputsTooLarge',
    )
    const { receipt, id } = await request()
    gas.requestInference = receipt.gasUsed
    const req = await market.getRequest(id)
    expect(req.status).toBe(Status.Requested)
    expect(req.inputsHash).toBe(hashOf(inputs))
    expect(req.requester).toBe(owner.address)

    const outputs = await consensus(iris.modelId, inputs)
    const h = hashOf(outputs)
    expect(await revertName(as(stranger).postClaim(id, outputs, h))).toBe('NotActiveExecutor')
    expect(await revertName(as(executor).postClaim(id, outputs, keccak256('0x01')))).toBe('OutputHashMismatch')
    // a claim too large to be challenged in one block is refused (eth_call: the bytes need not be mined)
    const huge: AbiTensor[] = [['probabilities', 132, [1n, 8193n], new Uint8Array(8193 * 32).fill(1)]]
    expect(await revertName(as(executor).postClaim.staticCall(id, huge, hashOf(huge)))).toBe('OutputsTooLarge')
    const claim = await wait(as(executor).postClaim(id, outputs, h))
    gas.postClaim = claim.gasUsed
    const posted = claim.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === 'ClaimPosted')
    expect(posted?.args.finalAtBlock).toBe(BigInt(claim.blockNumber) + window)
    expect(await revertName(as(stranger).postClaim(id, outputs, h))).toBe('WrongStatus')

    expect(await revertName(as(stranger).finalize(id, outputs))).toBe('WindowOpen')
    await mine(window)
    expect(await revertName(as(stranger).finalize(id, lie(outputs)))).toBe('OutputsMismatch')
    const fin = await wait(as(stranger).finalize(id, outputs))
    gas.finalize = fin.gasUsed
    const done = fin.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === 'ClaimFinalized')
    expect(done?.args.fee).toBe(price)
    expect(done?.args.callbackOk).toBe(true)
    expect((await market.getRequest(id)).status).toBe(Status.Finalized)
    // the consumer kept exactly what the executor claimed
    expect(await consumer.results()).toBe(1n)
    expect(await consumer.lastRequestId()).toBe(id)
    expect(await consumer.speciesOf(id)).toBe(1n) // setosa + 1
    expect(hashOf(plain(await consumer.lastOutputs()))).toBe(h)

    expect(await market.credit(executor.address)).toBe(price)
    expect(await market.credit(owner.address)).toBe(maxFee - price)
    expect((await market.getExecutor(executor.address)).openClaims).toBe(0n)
    const before = await provider.getBalance(executor.address)
    const w = await wait(as(executor).withdraw())
    const after = await provider.getBalance(executor.address)
    expect(after - before).toBe(price - w.gasUsed * w.gasPrice)
    expect(await market.credit(executor.address)).toBe(0n)
  }, 180_000)

  it('refuses requests the market could not re-run: private, priced; an allowlist must admit the market', async () => {
    const priv = await deployModel(devnet.store, owner, exampleModel('iris').bytes, { name: 'iris-private', policy: 1 })
    await wait(as(owner).setTolerance(priv.modelId, 1, 0, false))
    const refused = () => revertName(as(owner).requestInference(priv.modelId, inputs, ZeroAddress, 0n))
    expect(await refused()).toBe('ModelNotRunnable')
    const registry = new Contract(REGISTRY, registryAbi, owner) as any
    await wait(registry.setAccessPolicy(priv.modelId, 2))
    expect(await refused()).toBe('ModelNotRunnable')
    await wait(registry.allow(priv.modelId, INFERENCE_MARKET_ADDRESS))
    await wait(as(owner).requestInference(priv.modelId, inputs, ZeroAddress, 0n))
    // a priced model runs only through ModelRegistry.infer, never for the market
    await wait(registry.setPrice(priv.modelId, 1n))
    expect(await refused()).toBe('ModelNotRunnable')
  }, 120_000)

  it('challenge of a wrong claim: stake to the challenger, fee back, consensus outputs to the callback', async () => {
    const { id } = await request()
    const honest = await consensus(iris.modelId, inputs)
    const wrong = lie(honest)
    await wait(as(executor).postClaim(id, wrong, hashOf(wrong)))
    expect(await revertName(as(challenger).challenge(id, inputs, wrong, { value: bond - 1n }))).toBe('WrongBond')
    expect(await revertName(as(challenger).challenge(id, inputs, honest, { value: bond }))).toBe('OutputsMismatch')
    expect(await revertName(as(challenger).challenge(id, wrong, wrong, { value: bond }))).toBe('InputsMismatch')
    const stake = (await market.getExecutor(executor.address)).stake
    const r = await wait(as(challenger).challenge(id, inputs, wrong, { value: bond }))
    gas.challengeOverturned = r.gasUsed
    const ev = r.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === 'ClaimChallenged')
    expect(ev?.args.overturned).toBe(true)
    expect(ev?.args.slashed).toBe(stake)
    expect(ev?.args.consensusOutputHash).toBe(hashOf(honest))

    const req = await market.getRequest(id)
    expect(req.status).toBe(Status.Overturned)
    expect(req.outputHash).toBe(hashOf(honest))
    const e = await market.getExecutor(executor.address)
    expect([e.stake, e.active, e.slashed, e.openClaims]).toEqual([0n, false, 1n, 0n])
    expect(await market.credit(challenger.address)).toBe(stake + bond)
    expect(await market.credit(owner.address)).toBe(maxFee - price + maxFee)
    // the consumer got the consensus outputs (setosa), not the lie (virginica)
    expect(await consumer.lastRequestId()).toBe(id)
    expect(await consumer.speciesOf(id)).toBe(1n)
    expect(hashOf(plain(await consumer.lastOutputs()))).toBe(hashOf(honest))
    // overturned is final: no finalize, no second challenge, no new claim
    expect(await revertName(as(stranger).finalize(id, wrong))).toBe('WrongStatus')
    expect(await revertName(as(challenger).challenge(id, inputs, wrong, { value: bond }))).toBe('WrongStatus')
    // a slashed executor claims nothing until it bonds again
    const { id: next } = await request()
    expect(await revertName(as(executor).postClaim(next, honest, hashOf(honest)))).toBe('NotActiveExecutor')
    await wait(as(executor).register('cpu', price, { value: parseEther('1') }))
    await wait(as(executor).postClaim(next, honest, hashOf(honest)))
  }, 180_000)

  it('challenge of an honest claim: the bond goes to the executor, and the claim may be finalised at once', async () => {
    const id = await market.requestCount() // claimed honestly at the end of the last test
    const honest = await consensus(iris.modelId, inputs)
    const creditBefore = await market.credit(executor.address)
    const r = await wait(as(challenger).challenge(id, inputs, honest, { value: bond }))
    gas.challengeFailed = r.gasUsed
    const ev = r.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === 'ClaimChallenged')
    expect(ev?.args.overturned).toBe(false)
    expect(ev?.args.slashed).toBe(0n)
    expect(await market.credit(executor.address)).toBe(creditBefore + bond)
    const req = await market.getRequest(id)
    expect(req.verified).toBe(true)
    expect(req.status).toBe(Status.Claimed)
    expect(await revertName(as(challenger).challenge(id, inputs, honest, { value: bond }))).toBe('AlreadyVerified')
    // no need to wait for the window
    await wait(as(stranger).finalize(id, honest))
    expect((await market.getRequest(id)).status).toBe(Status.Finalized)
    expect(await consumer.lastRequestId()).toBe(id)
  }, 180_000)

  it('no challenge after the window; exit waits for open claims; no callback', async () => {
    const { id } = await request(iris.modelId, ZeroAddress)
    const honest = await consensus(iris.modelId, inputs)
    await wait(as(executor).postClaim(id, honest, hashOf(honest)))
    expect(await revertName(as(executor).exit())).toBe('OpenClaims')
    await mine(window)
    expect(await revertName(as(challenger).challenge(id, inputs, honest, { value: bond }))).toBe('WindowClosed')
    const fin = await wait(as(stranger).finalize(id, honest))
    gas.finalizeNoCallback = fin.gasUsed
    const stake = (await market.getExecutor(executor.address)).stake
    const credit = await market.credit(executor.address)
    await wait(as(executor).exit())
    expect(await market.credit(executor.address)).toBe(credit + stake)
    const e = await market.getExecutor(executor.address)
    expect([e.stake, e.active]).toEqual([0n, false])
    expect(await revertName(as(executor).exit())).toBe('NotActiveExecutor')
    await wait(as(executor).register('cpu', price, { value: parseEther('1') }))
  }, 180_000)

  it('a reverting or gas-eating callback does not block finalisation; too little gas for it is refused', async () => {
    const { abi, bytecode } = compileContract(`${REPO_ROOT}test/fixtures/HostileConsumer.sol`, 'HostileConsumer')
    const hostile = (await new ContractFactory(abi, bytecode, owner).deploy()) as unknown as Contract
    await hostile.waitForDeployment()
    const honest = await consensus(iris.modelId, inputs)
    for (const mode of [1n, 2n]) {
      await wait((hostile.connect(owner) as Contract).setMode(mode))
      const { id } = await request(iris.modelId, hostile.target as string)
      await wait(as(executor).postClaim(id, honest, hashOf(honest)))
      await mine(window)
      if (mode === 2n) {
        // just under the callback's share: anyone could otherwise make every consumer miss its result
        expect(await revertName(as(stranger).finalize.staticCall(id, honest, { gasLimit: 900_000n }))).toBe(
          'CallbackGasShort',
        )
      }
      const r = await wait(as(stranger).finalize(id, honest, { gasLimit: 2_000_000n }))
      const ev = r.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === 'ClaimFinalized')
      expect(ev?.args.callbackOk).toBe(false)
      expect((await market.getRequest(id)).status).toBe(Status.Finalized)
    }
    expect(await hostile.calls()).toBe(0n) // both calls failed, so neither counted
  }, 180_000)

  it('a model deprecated during the window cannot be re-run: the challenge reverts and slashes nobody', async () => {
    const dep = await deployModel(devnet.store, owner, exampleModel('iris').bytes, { name: 'iris-dep' })
    await wait(as(owner).setTolerance(dep.modelId, 1, 0, false))
    const { id } = await request(dep.modelId)
    const wrong = lie(await consensus(dep.modelId, inputs))
    await wait(as(executor).postClaim(id, wrong, hashOf(wrong)))
    await wait((new Contract(REGISTRY, registryAbi, owner) as any).deprecate(dep.modelId))
    const stake = (await market.getExecutor(executor.address)).stake
    expect(await revertName(as(challenger).challenge(id, inputs, wrong, { value: bond }))).toBe('ConsensusRunFailed')
    expect((await market.getExecutor(executor.address)).stake).toBe(stake)
    expect((await market.getRequest(id)).status).toBe(Status.Claimed)
  }, 180_000)

  it('a request nobody claims can be taken back by its requester after a window', async () => {
    const { id } = await request(iris.modelId, ZeroAddress)
    expect(await revertName(as(owner).cancel(id))).toBe('TooEarlyToCancel')
    await mine(window)
    expect(await revertName(as(stranger).cancel(id))).toBe('NotRequester')
    const credit = await market.credit(owner.address)
    await wait(as(owner).cancel(id))
    expect(await market.credit(owner.address)).toBe(credit + maxFee)
    expect((await market.getRequest(id)).status).toBe(Status.Cancelled)
    const honest = await consensus(iris.modelId, inputs)
    expect(await revertName(as(executor).postClaim(id, honest, hashOf(honest)))).toBe('WrongStatus')
    expect(await revertName(as(owner).cancel(id))).toBe('WrongStatus')
  }, 120_000)

  it('gas of each step (iris, fixed-point inputs; docs/benchmarks.md)', async () => {
    const rows = [
      'register',
      'setTolerance',
      'requestInference',
      'postClaim',
      'finalize',
      'finalizeNoCallback',
      'challengeOverturned',
      'challengeFailed',
    ]
    for (const k of rows) expect(gas[k], k).toBeGreaterThan(21_000n)
    // the challenge re-runs the model: it costs more than a claim
    expect(gas.challengeOverturned).toBeGreaterThan(gas.postClaim)
    // what the precompile charges for the consensus run inside a challenge (its `estimate`)
    const est = inferenceAbi.decodeFunctionResult(
      'estimate',
      await provider.call({ to: INFERENCE, data: inferenceAbi.encodeFunctionData('estimate', [iris.modelId, inputs]) }),
    )
    console.log(`market gas: ${rows.map((k) => `${k}=${gas[k]}`).join(' ')} (iris infer in the challenge: ${est.gas})`)
  })
})
