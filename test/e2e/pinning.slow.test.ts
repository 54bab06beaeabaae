import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Contract, getAddress, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_MNEMONIC, deriveDevAccounts } from '../../src/chain/accounts.ts'
import type { RunningPinner } from '../../src/cli/pinner.ts'
import { INCENTIVES_ABI, startPinner } from '../../src/cli/pinner.ts'
import { IPFS_INCENTIVES_ADDRESS } from '../../src/precompiles/addresses.ts'
import { setPinnerSummarySource } from '../../src/rpc/pinner.ts'
import { CommitmentBuilder, commitmentProof } from '../../src/storage/commitment.ts'
import { createModelStore } from '../../src/storage/create.ts'
import { addModelPackage, readManifest } from '../../src/storage/package.ts'
import type { PinnerEvent } from '../../src/storage/pinner.ts'
import type { PinningManager } from '../../src/storage/pinning.ts'
import { createPinningManager } from '../../src/storage/pinning.ts'
import type { ModelStore } from '../../src/storage/types.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { deployModel, exampleModel, REGISTRY, registryAbi } from '../helpers/models.ts'

const EPOCH_BLOCKS = 16n

function sink(): { stream: Writable; text: () => string } {
  let s = ''
  const stream = new Writable({
    write(chunk, _enc, cb) {
      s += String(chunk)
      cb()
    },
  })
  return { stream, text: () => s }
}

interface PinnerNode {
  dir: string
  store: ModelStore
  pins: PinningManager
  running: RunningPinner
  events: PinnerEvent[]
}

describe('pinning incentives on a devnet, driven by the node pinners', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let owner: Wallet
  let incentives: any
  let keeper: PinnerNode
  let deleter: PinnerNode
  /** The validator (dev account 0) as a verify-only runner: it checks each package before anyone can claim it. */
  let verifier: { dir: string; running: RunningPinner; events: PinnerEvent[] }
  let model: Awaited<ReturnType<typeof deployModel>>
  let bogusId: string
  const answerGas: bigint[] = []

  async function pinnerNode(key: string, modelBytes: Uint8Array): Promise<PinnerNode> {
    const dir = mkdtempSync(join(tmpdir(), 'lattice-pinner-'))
    const store = await createModelStore({ datadir: dir })
    // this pinner's own copy of the package (same bytes, same CIDs as the registry's)
    const src = mkdtempSync(join(tmpdir(), 'lattice-model-'))
    writeFileSync(join(src, 'model.onnx'), modelBytes)
    const pkg = await addModelPackage(store, { dir: src }, { name: 'iris' })
    expect(pkg.manifestCid).toBe(model.cid)
    const pins = createPinningManager({ store, stateFile: join(dir, 'pinning.json') })
    const events: PinnerEvent[] = []
    const running = startPinner({
      node: devnet.node,
      rpcUrl: devnet.url,
      key,
      store,
      pins,
      onEvent: (e) => events.push(e),
    })
    return { dir, store, pins, running, events }
  }

  /** Mine empty blocks until `epoch` starts, letting the pinners react to each block. */
  async function mineTo(epoch: bigint): Promise<void> {
    for (;;) {
      await verifier.running.idle()
      await keeper.running.idle()
      await deleter.running.idle()
      const n = BigInt(await provider.getBlockNumber())
      if (n / EPOCH_BLOCKS >= epoch) return
      await rpc(devnet.url, 'evm_mine')
    }
  }

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 50,
    })
    owner = new Wallet(KEY0, provider)
    const iris = exampleModel('iris').bytes
    model = await deployModel(devnet.store, owner, iris, { name: 'iris' })
    const { manifest } = await readManifest(devnet.store, model.cid, model.digest)
    incentives = new Contract(IPFS_INCENTIVES_ADDRESS, INCENTIVES_ABI, owner)
    await (await incentives.setModelInfo(model.modelId, manifest.totalSize, 'classifier')).wait()
    // a second entry whose registry commitment does not match its bytes: no pinner may claim it
    const registry = new Contract(REGISTRY, registryAbi, owner) as any
    const spec = {
      name: 'iris-bogus',
      version: '1',
      cid: model.cid,
      digest: model.digest,
      commitment: `0x${'ab'.repeat(32)}`,
      format: 'onnx',
      io: '',
      policy: 0,
      price: 0n,
    }
    await (await registry.register(spec)).wait()
    bogusId = await registry.modelIdOf(owner.address, spec.name, spec.version)
    await (await incentives.setModelInfo(bogusId, manifest.totalSize, 'classifier')).wait()

    const vdir = mkdtempSync(join(tmpdir(), 'lattice-verifier-'))
    const vevents: PinnerEvent[] = []
    verifier = {
      dir: vdir,
      events: vevents,
      running: startPinner({
        node: devnet.node,
        rpcUrl: devnet.url,
        key: KEY0,
        store: devnet.store,
        pins: createPinningManager({ store: devnet.store, stateFile: join(vdir, 'pinning.json') }),
        claim: false,
        onEvent: (e) => vevents.push(e),
      }),
    }
    const [, , a, b] = deriveDevAccounts(DEV_MNEMONIC, 4)
    keeper = await pinnerNode(Buffer.from(a.privateKey).toString('hex'), iris)
    deleter = await pinnerNode(Buffer.from(b.privateKey).toString('hex'), iris)
  }, 120_000)

  afterAll(async () => {
    if (verifier) {
      await verifier.running.stop()
      rmSync(verifier.dir, { recursive: true, force: true })
    }
    for (const p of [keeper, deleter]) {
      if (!p) continue
      await p.running.stop()
      await p.store.close()
      rmSync(p.dir, { recursive: true, force: true })
    }
    provider?.destroy()
    await devnet?.stop()
  })

  it('the keeper is paid every epoch; the pinner that deleted its copy loses its reward and part of its stake', async () => {
    // the validator verifies both packages: the honest model passes, the bogus commitment is rejected; both
    // pinners check the commitment of what they hold and claim the honest model, never the bogus one
    for (let i = 0; i < 200; i++) {
      const a: string[] = await incentives.claims(keeper.running.address)
      const b: string[] = await incentives.claims(deleter.running.address)
      if (a.length && b.length) break
      await rpc(devnet.url, 'evm_mine')
      await verifier.running.idle()
      await keeper.running.idle()
      await deleter.running.idle()
    }
    expect(await incentives.claims(keeper.running.address)).toEqual([model.modelId])
    expect(await incentives.claims(deleter.running.address)).toEqual([model.modelId])
    expect((await incentives.models(model.modelId)).state).toBe(2n) // VERIFIED
    expect((await incentives.models(bogusId)).state).toBe(3n) // REJECTED
    const verdicts = verifier.events.filter((e) => e.type === 'verified')
    expect(verdicts.map((e: any) => [e.modelId.toLowerCase(), e.ok])).toEqual(
      expect.arrayContaining([
        [model.modelId.toLowerCase(), true],
        [bogusId.toLowerCase(), false],
      ]),
    )
    const reader = new Contract(IPFS_INCENTIVES_ADDRESS, INCENTIVES_ABI, provider) as any
    await expect(reader.claim.staticCall(bogusId, { from: keeper.running.address })).rejects.toMatchObject({
      revert: { name: 'ModelNotVerified' },
    })

    // the second pinner deletes its copy
    await deleter.pins.unpin(model.cid)
    await deleter.store.gc()

    const from = BigInt(await incentives.claimedFrom(keeper.running.address, model.modelId))
    const stakeBefore = (await incentives.pinners(deleter.running.address)).stake
    const keeperBalance = await provider.getBalance(keeper.running.address)
    await mineTo(from + 3n)
    // one more epoch boundary so that the third challenged epoch is settled too
    await mineTo(from + 4n)

    const k = await incentives.pinners(keeper.running.address)
    const d = await incentives.pinners(deleter.running.address)
    expect(k.passed).toBeGreaterThanOrEqual(3n)
    expect(k.failed).toBe(0n)
    // each round pays its budget (0.1 % of the pool), here all of it to the only pinner that passed
    const rewarded = await provider.getLogs({
      address: IPFS_INCENTIVES_ADDRESS,
      topics: [incentives.interface.getEvent('Rewarded').topicHash],
      fromBlock: 0,
    })
    let sum = 0n
    for (const l of rewarded) {
      const ev = incentives.interface.parseLog(l)
      expect(ev.args.pinner).toBe(keeper.running.address)
      const round = await incentives.rounds(ev.args.epoch)
      expect(round.budgetFixed).toBe(true)
      expect(round.budget).toBeGreaterThan(0n)
      expect(round.budget).toBeLessThanOrEqual(10n ** 18n) // 0.1 % of at most 1000 ether
      expect(ev.args.amount).toBe(round.budget)
      sum += ev.args.amount
    }
    expect(BigInt(rewarded.length)).toBe(k.passed)
    expect(k.earned).toBe(sum)
    expect(k.owed).toBe(0n) // withdrawn by its pinner (pull payment)
    expect(k.stake).toBe(10n ** 18n)
    expect(d.passed).toBe(0n)
    expect(d.failed).toBeGreaterThanOrEqual(3n)
    expect(d.earned).toBe(0n)
    expect(d.stake).toBeLessThan(stakeBefore)
    expect(d.stake).toBe((10n ** 18n * 9n ** d.failed) / 10n ** d.failed)
    expect(deleter.events.some((e) => e.type === 'missed')).toBe(true)
    const withdrawn = keeper.events.filter((e) => e.type === 'withdrawn').reduce((s, e: any) => s + e.amount, 0n)
    expect(withdrawn).toBe(k.earned)
    // paid in the native token: the withdrawals outweigh the pinner's own gas (gas price is tiny on the devnet)
    expect(await provider.getBalance(keeper.running.address)).toBeGreaterThan(keeperBalance)

    const summary = await keeper.running.pinner.summary()
    expect(summary).toMatchObject({ claimedModels: 1, pinnedModels: 1, challengesFailed: 0 })
    expect(summary.challengesPassed).toBe(Number(k.passed))
    expect(summary.bytes).toBeGreaterThan(0)

    // served over JSON-RPC and printed by `lattice pinning summary`
    setPinnerSummarySource(devnet.node, keeper.running.pinner.summary)
    const { pinningSummaryCommand } = await import('../../src/cli/commands/pinning-summary.ts')
    const out = sink()
    const err = sink()
    // --json reaches a command through its io (the runner sets it for every command)
    const io = { stdout: out.stream, stderr: err.stream, isTTY: false, json: true }
    expect(await pinningSummaryCommand.run([], { rpcUrl: devnet.url, json: true }, io)).toBe(0)
    const printed = JSON.parse(out.text())
    expect(printed.pinner).toMatchObject({ challengesPassed: Number(k.passed), challengesFailed: 0 })
    const out2 = sink()
    const io2 = { stdout: out2.stream, stderr: err.stream, isTTY: false }
    expect(await pinningSummaryCommand.run([], { rpcUrl: devnet.url, pinner: deleter.running.address }, io2)).toBe(0)
    expect(out2.text()).toMatch(new RegExp(`challenges\\s+0 passed, ${d.failed} failed`))

    // gas of a challenge answer (docs/benchmarks.md)
    const logs = await provider.getLogs({
      address: IPFS_INCENTIVES_ADDRESS,
      topics: [incentives.interface.getEvent('Answered').topicHash],
      fromBlock: 0,
    })
    for (const l of logs) answerGas.push((await provider.getTransactionReceipt(l.transactionHash))!.gasUsed)
    expect(answerGas.length).toBeGreaterThan(0)
    console.log('challenge answer gas', answerGas)
    for (const g of answerGas) expect(g).toBeLessThan(120_000n)
  }, 180_000)

  it('a challenge answer for a 1 MiB package (1024 leaves, a 10-sibling path) stays under 120k gas', async () => {
    // measured directly (no pinner): register, claim, wait for the next epoch, answer once
    const bytes = new Uint8Array(1 << 20)
    for (let i = 0; i < bytes.length; i += 4) new DataView(bytes.buffer).setUint32(i, (i * 2654435761) >>> 0)
    const big = await deployModel(devnet.store, owner, bytes, { name: 'big' })
    await (await incentives.setModelInfo(big.modelId, bytes.length, 'llm')).wait()
    for (let i = 0; i < 50 && (await incentives.models(big.modelId)).state === 1n; i++) {
      await rpc(devnet.url, 'evm_mine')
      await verifier.running.idle()
    }
    expect((await incentives.models(big.modelId)).state).toBe(2n)
    const [, , , , , e] = deriveDevAccounts(DEV_MNEMONIC, 6)
    const pinner = new Wallet(Buffer.from(e.privateKey).toString('hex'), provider)
    const c = incentives.connect(pinner) as any
    await (await c.register({ value: 10n ** 18n, gasLimit: 300_000 })).wait()
    await (await c.claim(big.modelId)).wait()
    const from = BigInt(await c.claimedFrom(pinner.address, big.modelId))
    await mineTo(from)
    const [open, epoch, index] = await c.challengeOf(pinner.address, big.modelId)
    expect(open).toBe(true)
    const b = await CommitmentBuilder.create({ keepLeaves: true })
    b.update(bytes)
    expect(b.digest().root).toBe(big.commitment)
    const proof = await commitmentProof(b.leafHashes!, Number(index))
    expect(proof.siblings).toHaveLength(10)
    const leaf = bytes.subarray(Number(index) * 1024, Number(index) * 1024 + 1024)
    const receipt = await (await c.answer(epoch, big.modelId, leaf, proof.siblings)).wait()
    const ev = receipt.logs.map((l: any) => incentives.interface.parseLog(l)).find((l: any) => l?.name === 'Answered')
    expect(ev.args.ok).toBe(true)
    console.log('challenge answer gas, 1 MiB package', receipt.gasUsed)
    expect(receipt.gasUsed).toBeLessThan(120_000n)
  }, 120_000)
})

describe('lattice devnet --pinner-key: the dev validator verifies, the pinner claims and answers', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  const [, , , , , , , pinnerAccount] = deriveDevAccounts(DEV_MNEMONIC, 8)
  const pinnerKey = Buffer.from(pinnerAccount.privateKey).toString('hex')

  beforeAll(async () => {
    devnet = await startTestDevnet({ pinnerKey })
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  }, 120_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })

  it('a model whose owner set its info is verified by the validator, then claimed and answered', async () => {
    const owner = new Wallet(KEY0, provider)
    const iris = exampleModel('iris').bytes
    const model = await deployModel(devnet.store, owner, iris, { name: 'iris' })
    const incentives = new Contract(IPFS_INCENTIVES_ADDRESS, INCENTIVES_ABI, owner) as any
    await (await incentives.setModelInfo(model.modelId, iris.length, 'classifier')).wait()
    const me = getAddress(pinnerAccount.address.toString())
    let passed = 0n
    for (let i = 0; i < 120 && passed === 0n; i++) {
      await rpc(devnet.url, 'evm_mine')
      await new Promise((r) => setTimeout(r, 100))
      passed = BigInt(
        (
          await provider.getLogs({
            address: IPFS_INCENTIVES_ADDRESS,
            topics: [incentives.interface.getEvent('Answered').topicHash],
            fromBlock: 0,
          })
        ).length,
      )
    }
    expect((await incentives.models(model.modelId)).state).toBe(2n) // VERIFIED, by the dev validator
    expect(await incentives.claims(me)).toEqual([model.modelId])
    expect(passed).toBeGreaterThan(0n)
    const summary = await rpc(devnet.url, 'lattice_pinnerSummary')
    expect(summary.result).toMatchObject({ address: me, claimedModels: 1, pinnedModels: 1 })
  }, 180_000)
})
