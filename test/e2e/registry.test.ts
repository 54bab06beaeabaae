import { readFileSync } from 'node:fs'
import type { ContractTransactionResponse, InterfaceAbi, TransactionReceipt } from 'ethers'
import {
  AbiCoder,
  Contract,
  ContractFactory,
  JsonRpcProvider,
  keccak256,
  MaxUint256,
  parseEther,
  Wallet,
  ZeroAddress,
  ZeroHash,
} from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import type { ContractArtifact } from '../../src/chain/contracts.ts'
import { DEVNET_GENESIS_PATH } from '../../src/chain/genesis.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { MODEL_REGISTRY_ADDRESS } from '../../src/precompiles/addresses.ts'
import { AccessPolicy, ModelStatus } from '../../src/precompiles/registry-layout.ts'
import type { RegistrySpec } from '../../src/rpc/lattice.ts'
import { compileContractsCached } from '../helpers/compile-cache.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, KEY0, KEY1, startTestDevnet } from '../helpers/devnet.ts'
import { abiTensor, deployModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

const FIXTURE = 'test/fixtures/RegistryHarness.sol'
const DIGEST = `0x${'ab'.repeat(32)}`
const COMMITMENT = `0x${'cd'.repeat(32)}`

type Spec = RegistrySpec

function spec(over: Partial<Spec> = {}): Spec {
  return {
    name: 'mnist',
    version: '1.0.0',
    cid: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
    digest: DIGEST,
    commitment: COMMITMENT,
    format: 'onnx',
    io: 'x:float32[1,1,28,28] -> y:float32[1,10]',
    policy: AccessPolicy.public,
    price: 0n,
    ...over,
  }
}

describe('ModelRegistry predeploy on a real devnet (ethers v6)', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let owner: Wallet
  let other: Wallet
  let artifacts: Record<string, ContractArtifact>
  /** The predeploy, signed by account #0 / #1. */
  let reg: any
  let regOther: any

  beforeAll(async () => {
    // The harness inherits ModelRegistry, so its ABI is the registry's plus credit(); only the fixture file
    // gets code generated (test/chain/contracts.test.ts checks the predeploy against a fresh compile).
    artifacts = compileContractsCached({ extraSources: [FIXTURE], outputsFor: [FIXTURE] })
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, {
      staticNetwork: true,
      pollingInterval: 50,
      cacheTimeout: -1,
    })
    owner = new Wallet(KEY0, provider)
    other = new Wallet(KEY1, provider)
    reg = new Contract(MODEL_REGISTRY_ADDRESS, artifacts.RegistryHarness.abi as InterfaceAbi, owner)
    regOther = reg.connect(other)
  })
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })

  /** Send, then read the receipt (automine seals the block before the hash comes back). */
  async function mined(p: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
    const tx = await p
    const r = await provider.getTransactionReceipt(tx.hash)
    expect(r?.status).toBe(1)
    return r!
  }

  /** The registry's events in a receipt, as [name, ...args]. */
  function events(r: TransactionReceipt, c: any = reg): unknown[][] {
    return r.logs
      .filter((l) => l.address.toLowerCase() === String(c.target).toLowerCase())
      .map((l) => {
        const e = c.interface.parseLog(l)
        return [e.name, ...e.args.toArray()]
      })
  }

  async function register(s: Spec, c: any = reg): Promise<{ id: string; receipt: TransactionReceipt }> {
    const receipt = await mined(c.register(s))
    const [name, id] = events(receipt, c)[0]
    expect(name).toBe('ModelRegistered')
    return { id: id as string, receipt }
  }

  it('serves the genesis predeploy at 0xA110…01, empty', async () => {
    const genesis = JSON.parse(readFileSync(DEVNET_GENESIS_PATH, 'utf8'))
    const code = await provider.getCode(MODEL_REGISTRY_ADDRESS)
    expect(code).toBe(genesis.alloc['0xA110000000000000000000000000000000000001'].code)
    expect(code.length).toBeGreaterThan(10_000)
    expect(await reg.modelCount()).toBe(0n)
  })

  it('registers a model under keccak256(abi.encode(owner, name, version)) and emits ModelRegistered', async () => {
    const s = spec({ price: 7n, policy: AccessPolicy.allowlist })
    const { id, receipt } = await register(s)
    const expected = keccak256(
      AbiCoder.defaultAbiCoder().encode(['address', 'string', 'string'], [ADDR0, s.name, s.version]),
    )
    expect(id).toBe(expected)
    expect(await reg.modelIdOf(ADDR0, s.name, s.version)).toBe(expected)
    // register returns the id, too
    expect(await reg.register.staticCall(spec({ name: 'other' }))).toBe(await reg.modelIdOf(ADDR0, 'other', '1.0.0'))
    expect(events(receipt)).toEqual([
      ['ModelRegistered', id, ADDR0, s.name, s.version, s.cid, s.digest],
      ['PriceChanged', id, 7n],
      ['AccessPolicyChanged', id, BigInt(AccessPolicy.allowlist)],
    ])
    const m = await reg.getModel(id)
    expect(m.toObject()).toEqual({
      owner: ADDR0,
      status: BigInt(ModelStatus.active),
      policy: BigInt(AccessPolicy.allowlist),
      digest: s.digest,
      commitment: s.commitment,
      price: 7n,
      inferences: 0n,
      previous: ZeroHash,
      name: s.name,
      version: s.version,
      cid: s.cid,
      format: s.format,
      io: s.io,
    })
    expect(await reg.inferenceCount(id)).toBe(0n)
    // a public, free model emits only ModelRegistered
    const plain = await register(spec({ name: 'plain' }))
    expect(events(plain.receipt).map((e) => e[0])).toEqual(['ModelRegistered'])
  })

  it('refuses duplicates, empty fields and unknown policies', async () => {
    const s = spec({ name: 'dup' })
    const { id } = await register(s)
    await expect(reg.register.staticCall(s)).rejects.toMatchObject({
      revert: { name: 'AlreadyRegistered', args: [id] },
    })
    // the same name and version under another owner (with their own package) is another model
    const theirs = await register({ ...s, digest: `0x${'a1'.repeat(32)}`, cid: 'bafy-theirs' }, regOther)
    expect(theirs.id).not.toBe(id)
    for (const [field, over] of [
      ['name', { name: '' }],
      ['version', { version: '' }],
      ['cid', { cid: '' }],
      ['digest', { digest: ZeroHash }],
    ] as const) {
      await expect(reg.register.staticCall(Object.assign(spec({ name: 'e' }), over))).rejects.toMatchObject({
        revert: { name: 'EmptyField', args: [field] },
      })
    }
    await expect(reg.register.staticCall(spec({ name: 'p', policy: 3 }))).rejects.toMatchObject({
      revert: { name: 'InvalidPolicy', args: [3n] },
    })
    // a mined revert leaves no model behind
    const before = await reg.modelCount()
    const tx = await reg.register(spec({ name: '' }), { gasLimit: 500_000 })
    expect((await provider.getTransactionReceipt(tx.hash))?.status).toBe(0)
    expect(await reg.modelCount()).toBe(before)
  })

  it('update registers a new version, deprecates the old one and links them', async () => {
    const { id: oldId } = await register(spec({ name: 'upd' }))
    const s2 = spec({ name: 'upd', version: '2.0.0', cid: 'bafyv2', price: 3n })
    const newId = (await reg.update.staticCall(oldId, s2)) as string
    expect(newId).toBe(await reg.modelIdOf(ADDR0, 'upd', '2.0.0'))
    const r = await mined(reg.update(oldId, s2))
    expect(events(r)).toEqual([
      ['ModelRegistered', newId, ADDR0, 'upd', '2.0.0', 'bafyv2', DIGEST],
      ['PriceChanged', newId, 3n],
      ['ModelDeprecated', oldId],
      ['ModelUpdated', oldId, newId, '2.0.0'],
    ])
    expect((await reg.getModel(oldId)).status).toBe(BigInt(ModelStatus.deprecated))
    const m = await reg.getModel(newId)
    expect([m.status, m.previous, m.cid, m.price]).toEqual([BigInt(ModelStatus.active), oldId, 'bafyv2', 3n])
    // updating to an existing version is a duplicate
    await expect(reg.update.staticCall(newId, s2)).rejects.toMatchObject({ revert: { name: 'AlreadyRegistered' } })
    await expect(reg.update.staticCall(ZeroHash, s2)).rejects.toMatchObject({
      revert: { name: 'UnknownModel', args: [ZeroHash] },
    })
  })

  it('deprecate marks the model deprecated; it stays listed and readable', async () => {
    const { id } = await register(spec({ name: 'dep' }))
    const r = await mined(reg.deprecate(id))
    expect(events(r)).toEqual([['ModelDeprecated', id]])
    expect((await reg.getModel(id)).status).toBe(BigInt(ModelStatus.deprecated))
    const ids = await reg.modelIds(0, MaxUint256)
    expect(ids).toContain(id)
  })

  it('access policies: public, private to the owner, allowlist with allow/disallow', async () => {
    const { id } = await register(spec({ name: 'acl' }))
    expect(await reg.isAllowed(id, ADDR1)).toBe(true)

    let r = await mined(reg.setAccessPolicy(id, AccessPolicy.private))
    expect(events(r)).toEqual([['AccessPolicyChanged', id, BigInt(AccessPolicy.private)]])
    expect(await reg.isAllowed(id, ADDR1)).toBe(false)
    expect(await reg.isAllowed(id, ADDR0)).toBe(true)

    // under a private policy the allowlist does not count
    await mined(reg.allow(id, ADDR1))
    expect(await reg.isAllowed(id, ADDR1)).toBe(false)

    r = await mined(reg.setAccessPolicy(id, AccessPolicy.allowlist))
    expect(events(r)).toEqual([['AccessPolicyChanged', id, BigInt(AccessPolicy.allowlist)]])
    expect(await reg.isAllowed(id, ADDR1)).toBe(true)
    expect(await reg.isAllowed(id, ADDR0)).toBe(true)
    expect(await reg.isAllowed(id, ZeroAddress)).toBe(false)

    r = await mined(reg.disallow(id, ADDR1))
    expect(events(r)).toEqual([['AllowlistChanged', id, ADDR1, false]])
    expect(await reg.isAllowed(id, ADDR1)).toBe(false)
    r = await mined(reg.allow(id, ADDR1))
    expect(events(r)).toEqual([['AllowlistChanged', id, ADDR1, true]])
    expect(await reg.isAllowed(id, ADDR1)).toBe(true)

    await expect(reg.setAccessPolicy.staticCall(id, 3)).rejects.toMatchObject({
      revert: { name: 'InvalidPolicy', args: [3n] },
    })
  })

  it('setPrice and transferOwnership; the new owner holds every owner right', async () => {
    const pkg = { digest: `0x${'0e'.repeat(32)}`, cid: 'bafy-own' }
    const { id } = await register(spec({ name: 'own', ...pkg }))
    let r = await mined(reg.setPrice(id, parseEther('0.01')))
    expect(events(r)).toEqual([['PriceChanged', id, parseEther('0.01')]])
    expect((await reg.getModel(id)).price).toBe(parseEther('0.01'))

    r = await mined(reg.transferOwnership(id, ADDR1))
    expect(events(r)).toEqual([['OwnershipTransferred', id, ADDR0, ADDR1]])
    expect((await reg.getModel(id)).owner).toBe(ADDR1)
    await expect(reg.setPrice.staticCall(id, 1n)).rejects.toMatchObject({
      revert: { name: 'NotOwner', args: [id, ADDR0] },
    })
    r = await mined(regOther.setPrice(id, 1n))
    expect(events(r)).toEqual([['PriceChanged', id, 1n]])
    // the model id does not change with the owner
    expect((await reg.getModel(id)).name).toBe('own')
    // the package went with the entry: the seller cannot list it again, the buyer may version it
    expect(await reg.digestOwner(pkg.digest)).toBe(ADDR1)
    expect(await reg.cidOwner(pkg.cid)).toBe(ADDR1)
    await expect(reg.register.staticCall(spec({ name: 'own-again', ...pkg }))).rejects.toMatchObject({
      revert: { name: 'DigestOwnedByAnother', args: [pkg.digest, ADDR1] },
    })
    await register(spec({ name: 'own', version: '2.0.0', ...pkg }), regOther)
  })

  it('transferOwnership refuses the zero address (ZeroAddress); owner and package stay put', async () => {
    const pkg = { digest: `0x${'0f'.repeat(32)}`, cid: 'bafy-own-zero' }
    const { id } = await register(spec({ name: 'own-zero', ...pkg }))
    await expect(reg.transferOwnership.staticCall(id, ZeroAddress)).rejects.toMatchObject({
      revert: { name: 'ZeroAddress', args: [] },
    })
    const tx = await reg.transferOwnership(id, ZeroAddress, { gasLimit: 200_000 })
    expect((await provider.getTransactionReceipt(tx.hash))?.status).toBe(0)
    expect((await reg.getModel(id)).owner).toBe(ADDR0)
    expect(await reg.digestOwner(pkg.digest)).toBe(ADDR0)
    expect(await reg.cidOwner(pkg.cid)).toBe(ADDR0)
  })

  it("refuses another owner's package (digest or CID); its owner may register and version it again", async () => {
    // a real private, priced package: a stranger who reads cid and digest from the chain cannot list them
    const m = await deployModel(devnet.store, owner, buildIrisModel(), {
      name: 'iris-owned',
      policy: AccessPolicy.private,
      price: 5n,
    })
    expect(await reg.digestOwner(m.digest)).toBe(ADDR0)
    expect(await reg.cidOwner(m.cid)).toBe(ADDR0)
    const copy = spec({ name: 'free-iris', cid: m.cid, digest: m.digest, commitment: m.commitment })
    await expect(regOther.register.staticCall(copy)).rejects.toMatchObject({
      revert: { name: 'DigestOwnedByAnother', args: [m.digest, ADDR0] },
    })
    // either one is enough to refuse: the digest under another CID string, or the CID under another digest
    await expect(regOther.register.staticCall({ ...copy, cid: 'bafy-elsewhere' })).rejects.toMatchObject({
      revert: { name: 'DigestOwnedByAnother', args: [m.digest, ADDR0] },
    })
    await expect(regOther.register.staticCall({ ...copy, digest: `0x${'5a'.repeat(32)}` })).rejects.toMatchObject({
      revert: { name: 'CidOwnedByAnother', args: [m.cid, ADDR0] },
    })
    // mined: the stranger's transaction fails and lists nothing
    const before = await reg.modelCount()
    const tx = await regOther.register(copy, { gasLimit: 1_000_000 })
    expect((await provider.getTransactionReceipt(tx.hash))?.status).toBe(0)
    expect(await reg.modelCount()).toBe(before)
    await expect(reg.getModel(await reg.modelIdOf(ADDR1, copy.name, copy.version))).rejects.toMatchObject({
      revert: { name: 'UnknownModel' },
    })

    // the owner may list the same package again (a public copy of its own) and version it with update
    const again = await register({ ...copy, name: 'iris-owned-public' })
    expect((await reg.getModel(again.id)).owner).toBe(ADDR0)
    const r = await mined(
      reg.update(m.modelId, { ...copy, name: 'iris-owned', version: '2', policy: AccessPolicy.private, price: 5n }),
    )
    expect(events(r).map((e) => e[0])).toEqual([
      'ModelRegistered',
      'PriceChanged',
      'AccessPolicyChanged',
      'ModelDeprecated',
      'ModelUpdated',
    ])
  })

  it('every owner operation reverts NotOwner for anyone else (and UnknownModel for unknown ids)', async () => {
    const { id } = await register(spec({ name: 'guarded' }))
    const ops: [string, unknown[]][] = [
      ['update', [id, spec({ name: 'guarded', version: '9' })]],
      ['deprecate', [id]],
      ['setAccessPolicy', [id, AccessPolicy.private]],
      ['allow', [id, ADDR1]],
      ['disallow', [id, ADDR1]],
      ['setPrice', [id, 1n]],
      ['transferOwnership', [id, ADDR1]],
    ]
    for (const [fn, args] of ops) {
      await expect(regOther[fn].staticCall(...args), fn).rejects.toMatchObject({
        revert: { name: 'NotOwner', args: [id, ADDR1] },
      })
      const unknown = [ZeroHash, ...args.slice(1)]
      await expect(reg[fn].staticCall(...unknown), fn).rejects.toMatchObject({
        revert: { name: 'UnknownModel', args: [ZeroHash] },
      })
    }
    // mined, too: the transaction fails and nothing changes
    const tx = await regOther.transferOwnership(id, ADDR1, { gasLimit: 200_000 })
    expect((await provider.getTransactionReceipt(tx.hash))?.status).toBe(0)
    expect((await reg.getModel(id)).owner).toBe(ADDR0)
    await expect(reg.getModel(ZeroHash)).rejects.toMatchObject({ revert: { name: 'UnknownModel' } })
  })

  it('lists ids in registration order with offset/limit pagination', async () => {
    const n = await reg.modelCount()
    const all = (await reg.modelIds(0, MaxUint256)) as string[]
    expect(BigInt(all.length)).toBe(n)
    const added: string[] = []
    for (const v of ['a', 'b', 'c']) added.push((await register(spec({ name: 'page', version: v }))).id)
    expect(await reg.modelCount()).toBe(n + 3n)
    expect([...(await reg.modelIds(n, 2))]).toEqual(added.slice(0, 2))
    expect([...(await reg.modelIds(n + 2n, 2))]).toEqual(added.slice(2))
    expect([...(await reg.modelIds(n + 3n, 5))]).toEqual([])
    expect([...(await reg.modelIds(MaxUint256, MaxUint256))]).toEqual([])
    expect([...(await reg.modelIds(0, 0))]).toEqual([])
    expect([...(await reg.modelIds(0, MaxUint256))]).toEqual([...all, ...added])
  })

  it('infer checks status, access and the exact price before it forwards to the precompile', async () => {
    const { id } = await register(spec({ name: 'paid', price: 1000n }))
    const inputs: unknown[] = []
    await expect(reg.infer.staticCall(ZeroHash, inputs)).rejects.toMatchObject({
      revert: { name: 'UnknownModel', args: [ZeroHash] },
    })
    await expect(reg.infer.staticCall(id, inputs, { value: 999n })).rejects.toMatchObject({
      revert: { name: 'WrongPayment', args: [id, 1000n, 999n] },
    })
    await expect(reg.infer.staticCall(id, inputs, { value: 1001n })).rejects.toMatchObject({
      revert: { name: 'WrongPayment', args: [id, 1000n, 1001n] },
    })
    await mined(reg.setAccessPolicy(id, AccessPolicy.private))
    await expect(regOther.infer.staticCall(id, inputs, { value: 1000n })).rejects.toMatchObject({
      revert: { name: 'CallerNotAllowed', args: [id, ADDR1] },
    })
    await mined(reg.deprecate(id))
    await expect(reg.infer.staticCall(id, inputs, { value: 1000n })).rejects.toMatchObject({
      revert: { name: 'ModelNotActive', args: [id] },
    })
    // nothing was paid or counted
    expect(await reg.balances(ADDR0)).toBe(0n)
    expect(await reg.inferenceCount(id)).toBe(0n)
  })

  it('a paid infer runs the model, credits the owner, counts it; the owner withdraws by pull', async () => {
    const price = parseEther('0.001')
    const m = await deployModel(devnet.store, owner, buildIrisModel(), { name: 'iris-paid', price })
    const x = abiTensor(tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2]))
    const outputs = await regOther.infer.staticCall(m.modelId, [x], { value: price })
    expect(outputs.length).toBeGreaterThan(0)
    expect(outputs[0].data.length).toBeGreaterThan(2)
    // the precompile refuses a priced model unless the registry forwards the call
    await expect(
      provider.call({ to: INFERENCE, data: inferenceAbi.encodeFunctionData('infer', [m.modelId, [x]]) }),
    ).rejects.toThrow()

    const r = await mined(regOther.infer(m.modelId, [x], { value: price }))
    expect(events(r)).toEqual([['InferencePaid', m.modelId, ADDR1, price]])
    expect(await reg.balances(ADDR0)).toBe(price)
    expect(await reg.inferenceCount(m.modelId)).toBe(1n)
    expect(await provider.getBalance(MODEL_REGISTRY_ADDRESS)).toBe(price)

    // an inference that fails in the precompile (wrong shape) reverts the payment with it
    const bad = abiTensor(tensorFromValues('x', DType.float32, [1, 3], [1, 2, 3]))
    await expect(regOther.infer.staticCall(m.modelId, [bad], { value: price })).rejects.toMatchObject({
      reason: expect.stringContaining('shape'),
    })
    const tx = await regOther.infer(m.modelId, [bad], { value: price, gasLimit: 3_000_000 })
    expect((await provider.getTransactionReceipt(tx.hash))?.status).toBe(0)
    expect(await reg.balances(ADDR0)).toBe(price)
    expect(await reg.inferenceCount(m.modelId)).toBe(1n)

    // only the owner's own balance pays out, and only once
    expect(await regOther.withdraw.staticCall()).toBe(0n)
    const before = await provider.getBalance(ADDR0)
    const w = await mined(reg.withdraw())
    expect(events(w)).toEqual([['Withdrawal', ADDR0, price]])
    expect(await provider.getBalance(ADDR0)).toBe(before + price - w.gasUsed * w.gasPrice)
    expect(await reg.balances(ADDR0)).toBe(0n)
    expect(await provider.getBalance(MODEL_REGISTRY_ADDRESS)).toBe(0n)
    expect(await reg.withdraw.staticCall()).toBe(0n)
  })

  it('withdraw with nothing owed pays 0 and emits Withdrawal', async () => {
    expect(await reg.balances(ADDR1)).toBe(0n)
    expect(await regOther.withdraw.staticCall()).toBe(0n)
    const before = await provider.getBalance(ADDR1)
    const r = await mined(regOther.withdraw())
    expect(events(r)).toEqual([['Withdrawal', ADDR1, 0n]])
    expect(await provider.getBalance(ADDR1)).toBe(before - r.gasUsed * r.gasPrice)
  })

  describe('pull payments with real funds (RegistryHarness = ModelRegistry + credit())', () => {
    let harness: any
    let harnessAddr: string

    async function deploy(name: string, args: unknown[] = []): Promise<any> {
      const a = artifacts[name]
      const c = (await new ContractFactory(a.abi as InterfaceAbi, a.bytecode, owner).deploy(...args)) as any
      await c.waitForDeployment()
      return c
    }

    beforeAll(async () => {
      harness = await deploy('RegistryHarness')
      harnessAddr = await harness.getAddress()
    })

    it('an owner withdraws exactly what was credited, once', async () => {
      await mined(harness.credit(ADDR1, { value: parseEther('1') }))
      await mined(harness.credit(ADDR1, { value: parseEther('0.5') }))
      expect(await harness.balances(ADDR1)).toBe(parseEther('1.5'))
      const h = harness.connect(other)
      const before = await provider.getBalance(ADDR1)
      const r = await mined(h.withdraw())
      expect(events(r, harness)).toEqual([['Withdrawal', ADDR1, parseEther('1.5')]])
      expect(await provider.getBalance(ADDR1)).toBe(before + parseEther('1.5') - r.gasUsed * r.gasPrice)
      expect(await harness.balances(ADDR1)).toBe(0n)
      expect(await provider.getBalance(harnessAddr)).toBe(0n)
      // a second withdraw gets nothing
      expect(await h.withdraw.staticCall()).toBe(0n)
    })

    it('a receiver that re-enters withdraw gets paid once; the inner call reverts Reentrancy', async () => {
      const attacker = await deploy('ReentrantReceiver', [harnessAddr, true])
      const at = await attacker.getAddress()
      await mined(harness.credit(at, { value: parseEther('2') }))
      await mined(harness.credit(ADDR0, { value: parseEther('3') })) // someone else's money stays put
      const r = await mined(attacker.attack())
      expect(events(r, harness)).toEqual([['Withdrawal', at, parseEther('2')]])
      expect(await attacker.calls()).toBe(1n)
      expect(await attacker.received()).toBe(parseEther('2'))
      expect(await attacker.reentryPaid()).toBe(false)
      expect(await attacker.reentryError()).toBe(harness.interface.getError('Reentrancy')!.selector)
      expect(await provider.getBalance(at)).toBe(parseEther('2'))
      expect(await harness.balances(at)).toBe(0n)
      expect(await provider.getBalance(harnessAddr)).toBe(parseEther('3'))
      expect(await harness.balances(ADDR0)).toBe(parseEther('3'))
    })

    it('a receiver whose re-entry bubbles up makes the whole withdraw fail (TransferFailed), balance intact', async () => {
      const attacker = await deploy('ReentrantReceiver', [harnessAddr, false])
      const at = await attacker.getAddress()
      await mined(harness.credit(at, { value: parseEther('1') }))
      await expect(attacker.attack.staticCall()).rejects.toMatchObject({
        data: harness.interface.getError('TransferFailed')!.selector,
      })
      const tx = await attacker.attack({ gasLimit: 300_000 })
      expect((await provider.getTransactionReceipt(tx.hash))?.status).toBe(0)
      expect(await harness.balances(at)).toBe(parseEther('1'))
      expect(await provider.getBalance(at)).toBe(0n)
      expect(await provider.getBalance(harnessAddr)).toBe(parseEther('4'))
    })

    it('the predeploy blocks the same re-entry (zero balance: the inner withdraw still reverts)', async () => {
      const attacker = await deploy('ReentrantReceiver', [MODEL_REGISTRY_ADDRESS, true])
      const r = await mined(attacker.attack())
      expect(events(r)).toEqual([['Withdrawal', await attacker.getAddress(), 0n]])
      expect(await attacker.calls()).toBe(1n)
      expect(await attacker.reentryError()).toBe(reg.interface.getError('Reentrancy')!.selector)
    })
  })
})
