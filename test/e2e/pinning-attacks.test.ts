// The two pinning-pool attacks of issue 11 (item 5), replayed against IPFSIncentives on a real devnet whose
// validator (dev account 0) runs the node's verifier. On the contract before the fix, the first test drained
// the pool (a 2^54-byte model of identical leaves, paid by declared size) and the second slashed an honest
// pinner whose answer a last-block `seedEpoch()` pushed into the next epoch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TransactionReceipt } from 'ethers'
import { AbiCoder, Contract, concat, id, JsonRpcProvider, keccak256, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_MNEMONIC, deriveDevAccounts } from '../../src/chain/accounts.ts'
import type { RunningPinner } from '../../src/cli/pinner.ts'
import { INCENTIVES_ABI, startPinner } from '../../src/cli/pinner.ts'
import { IPFS_INCENTIVES_ADDRESS } from '../../src/precompiles/addresses.ts'
import { CommitmentBuilder, commitmentProof } from '../../src/storage/commitment.ts'
import { addModelPackage } from '../../src/storage/package.ts'
import type { PinnerEvent } from '../../src/storage/pinner.ts'
import { createPinningManager } from '../../src/storage/pinning.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { deployModel, exampleModel, REGISTRY, registryAbi } from '../helpers/models.ts'

const EPOCH_BLOCKS = 16n
const PENDING = 1n
const VERIFIED = 2n
const REJECTED = 3n

/** Root and per-level siblings of a Merkle tree (docs/storage.md) of 2^depth identical all-zero leaves. */
function identicalLeafTree(depth: number): { leaf: Uint8Array; siblings: string[]; root: string } {
  const leaf = new Uint8Array(1024)
  let h = keccak256(concat(['0x00', leaf]))
  const siblings: string[] = []
  for (let k = 0; k < depth; k++) {
    siblings.push(h)
    h = keccak256(concat(['0x01', h, h]))
  }
  return { leaf, siblings, root: h }
}

describe('pinning pool attacks (issue 11, item 5)', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let owner: Wallet
  let attacker: Wallet
  let honest: Wallet
  let verifier: RunningPinner
  let vdir: string
  const verdicts: PinnerEvent[] = []
  let reader: any

  /** Mine one block and let the verifier react to it. */
  async function step(): Promise<void> {
    await rpc(devnet.url, 'evm_mine')
    await verifier.idle()
  }

  async function mineToBlock(n: bigint): Promise<void> {
    while (BigInt(await provider.getBlockNumber()) < n) await step()
  }

  async function waitVerdict(modelId: string): Promise<bigint> {
    for (let i = 0; i < 50; i++) {
      const state = (await reader.models(modelId)).state as bigint
      if (state !== PENDING) return state
      await step()
    }
    return PENDING
  }

  /** Send and return the receipt, reverted or not (explicit gas: no estimate that would throw first). */
  async function send(c: any, fn: string, args: unknown[], value = 0n): Promise<TransactionReceipt> {
    const tx = await c[fn](...args, { gasLimit: 1_000_000, value })
    return (await provider.getTransactionReceipt(tx.hash))!
  }

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 50,
    })
    const accounts = deriveDevAccounts(DEV_MNEMONIC, 6)
    const key = (i: number) => Buffer.from(accounts[i].privateKey).toString('hex')
    owner = new Wallet(KEY0, provider)
    attacker = new Wallet(key(4), provider)
    honest = new Wallet(key(5), provider)
    reader = new Contract(IPFS_INCENTIVES_ADDRESS, INCENTIVES_ABI, provider)
    vdir = mkdtempSync(join(tmpdir(), 'lattice-verifier-'))
    // the genesis validator verifies packages with the node's own pinner code (verify only, no claims)
    verifier = startPinner({
      node: devnet.node,
      rpcUrl: devnet.url,
      key: KEY0,
      store: devnet.store,
      pins: createPinningManager({ store: devnet.store, stateFile: join(vdir, 'pinning.json') }),
      claim: false,
      onEvent: (e) => verdicts.push(e),
    })
    expect(await reader.isVerifier(owner.address)).toBe(true)
    expect(await reader.isVerifier(attacker.address)).toBe(false)
  }, 120_000)

  afterAll(async () => {
    await verifier?.stop()
    if (vdir) rmSync(vdir, { recursive: true, force: true })
    provider?.destroy()
    await devnet?.stop()
  })

  it('the fake-size model earns nothing', async () => {
    // the attacker's own (real, small) package, registered with a self-chosen commitment: a tree of identical
    // leaves whose every challenge it can answer with one leaf and one path
    const src = mkdtempSync(join(tmpdir(), 'lattice-fake-'))
    writeFileSync(join(src, 'model.onnx'), exampleModel('iris').bytes)
    const pkg = await addModelPackage(devnet.store, { dir: src }, { name: 'fake' })
    rmSync(src, { recursive: true, force: true })
    const registry = new Contract(REGISTRY, registryAbi, attacker) as any
    const fake = identicalLeafTree(44) // 2^44 leaves of 1 KiB = 2^54 bytes
    const spec = (name: string, commitment: string) => ({
      name,
      version: '1',
      cid: pkg.manifestCid,
      digest: pkg.digest,
      commitment,
      format: 'onnx',
      io: '',
      policy: 0,
      price: 0n,
    })
    await (await registry.register(spec('huge', fake.root))).wait()
    const huge = await registry.modelIdOf(attacker.address, 'huge', '1')
    const inc = reader.connect(attacker) as any
    const poolBefore: bigint = await reader.pool()
    expect(poolBefore).toBe(1000n * 10n ** 18n)
    const balanceBefore = await provider.getBalance(attacker.address)

    // the replay: a declared size of 2^54 bytes is refused outright
    await expect(inc.setModelInfo.staticCall(huge, 2n ** 54n, 'llm')).rejects.toMatchObject({
      revert: { name: 'SizeOutOfRange', args: [2n ** 54n, 2n ** 40n] },
    })
    expect((await send(inc, 'setModelInfo', [huge, 2n ** 54n, 'llm'])).status).toBe(0)

    // the same trick inside the size cap (1 TiB, a depth-30 tree of identical leaves)
    const capped = identicalLeafTree(30)
    await (await registry.register(spec('capped', capped.root))).wait()
    const id = await registry.modelIdOf(attacker.address, 'capped', '1')
    await (await inc.setModelInfo(id, 2n ** 40n, 'llm')).wait()
    expect((await reader.models(id)).state).toBe(PENDING)
    expect((await send(inc, 'register', [], 10n ** 18n)).status).toBe(1)
    // an unverified model cannot be claimed, and the attacker cannot verify it itself
    await expect(inc.claim.staticCall(id)).rejects.toMatchObject({
      revert: { name: 'ModelNotVerified', args: [id, PENDING] },
    })
    await expect(inc.attest.staticCall(id, 2n ** 40n, capped.root)).rejects.toMatchObject({
      revert: { name: 'NotVerifier', args: [attacker.address] },
    })
    // the validator fetches the package, computes its real size and commitment and rejects the declaration
    expect(await waitVerdict(id)).toBe(REJECTED)
    // the pinner reports after its attestation is mined and it has read the state back: at load 10 the test saw
    // the state first, and the event was not there yet
    const verdictFor = () => verdicts.find((e) => e.type === 'verified' && e.modelId.toLowerCase() === id.toLowerCase())
    for (let i = 0; i < 300 && !verdictFor(); i++) await new Promise((r) => setTimeout(r, 100))
    const verdict = verdictFor()
    expect(verdict).toMatchObject({ ok: false, size: BigInt(pkg.manifest.totalSize), commitment: pkg.commitment })
    await expect(inc.claim.staticCall(id)).rejects.toMatchObject({
      revert: { name: 'ModelNotVerified', args: [id, REJECTED] },
    })
    expect((await send(inc, 'claim', [id])).status).toBe(0)
    expect((await send(inc, 'claim', [huge])).status).toBe(0)

    // two whole epochs of answering with the identical-leaf proof: every answer reverts, nothing is owed
    const start = BigInt(await provider.getBlockNumber()) / EPOCH_BLOCKS
    for (let e = start; e < start + 3n; e++) {
      await mineToBlock(e * EPOCH_BLOCKS + 1n)
      const [, epoch] = await reader.challengeOf(attacker.address, id)
      expect((await send(inc, 'answer', [epoch, id, capped.leaf, capped.siblings])).status).toBe(0)
    }
    await mineToBlock((start + 3n) * EPOCH_BLOCKS)
    expect((await send(inc, 'settle', [attacker.address, start + 2n])).status).toBe(1)
    expect((await send(inc, 'withdraw', [])).status).toBe(1)
    const p = await reader.pinners(attacker.address)
    expect([p.earned, p.owed, p.passed, p.failed]).toEqual([0n, 0n, 0n, 0n])
    expect(await reader.claims(attacker.address)).toEqual([])
    expect(await reader.pool()).toBe(poolBefore)
    // the attacker is poorer by its stake and gas, never richer
    expect(await provider.getBalance(attacker.address)).toBeLessThan(balanceBefore - 10n ** 18n)
  }, 180_000)

  it('the late seed slashes nobody', async () => {
    const iris = exampleModel('iris').bytes
    const model = await deployModel(devnet.store, owner, iris, { name: 'iris' })
    await (await (reader.connect(owner) as any).setModelInfo(model.modelId, iris.length, 'classifier')).wait()
    expect(await waitVerdict(model.modelId)).toBe(VERIFIED)

    const inc = reader.connect(honest) as any
    expect((await send(inc, 'register', [], 10n ** 18n)).status).toBe(1)
    expect((await send(inc, 'claim', [model.modelId])).status).toBe(1)
    const round = BigInt(await reader.claimedFrom(honest.address, model.modelId))

    // the round's seed is fixed by the block that closes the epoch before it, before the round opens
    await mineToBlock(round * EPOCH_BLOCKS)
    const seedBlock = await provider.getBlock(Number(round * EPOCH_BLOCKS - 1n))
    const expected = keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], [seedBlock!.hash, round]))
    expect(await reader.seedOf(round)).toBe(expected)

    // the replay: anyone calls seedEpoch() in the last block of the round...
    await mineToBlock((round + 1n) * EPOCH_BLOCKS - 2n)
    const seedTx = await attacker.sendTransaction({
      to: IPFS_INCENTIVES_ADDRESS,
      data: id('seedEpoch()').slice(0, 10), // the call of the attack, as the old interface spelled it
      gasLimit: 200_000,
    })
    const seeded = (await provider.getTransactionReceipt(seedTx.hash))!
    expect(BigInt(seeded.blockNumber)).toBe((round + 1n) * EPOCH_BLOCKS - 1n)
    // ...which moves nothing: the seed and the challenge are what they were
    expect(await reader.seedOf(round)).toBe(expected)
    const [open, epoch, index] = await reader.challengeOf(honest.address, model.modelId)
    expect([open, epoch]).toEqual([true, round])

    // the honest pinner answers from the bytes it holds; the answer lands in the next epoch and still counts
    const b = await CommitmentBuilder.create({ keepLeaves: true })
    b.update(iris)
    expect(b.digest().root).toBe(model.commitment)
    const proof = await commitmentProof(b.leafHashes!, Number(index))
    const leaf = iris.subarray(Number(index) * 1024, Number(index) * 1024 + 1024)
    const answered = await send(inc, 'answer', [round, model.modelId, leaf, proof.siblings])
    expect(BigInt(answered.blockNumber)).toBe((round + 1n) * EPOCH_BLOCKS)
    expect(answered.status).toBe(1)
    expect(await reader.answers(round, honest.address, model.modelId)).toBe(1n)

    // once the round has closed, anyone (here the attacker) settles it: paid, not slashed
    await mineToBlock((round + 2n) * EPOCH_BLOCKS)
    expect((await send(reader.connect(attacker), 'settle', [honest.address, round + 1n])).status).toBe(1)
    const p = await reader.pinners(honest.address)
    expect(p.failed).toBe(0n)
    expect(p.passed).toBe(1n)
    expect(p.stake).toBe(10n ** 18n)
    const r = await reader.rounds(round)
    expect(p.earned).toBe(r.budget)
    expect(r.budget).toBeGreaterThan(0n)
  }, 180_000)
})
