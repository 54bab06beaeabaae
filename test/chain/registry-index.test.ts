import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportBlockFile, importBlockFile } from '../../src/chain/blockfile.ts'
import { Chain } from '../../src/chain/chain.ts'
import { loadChainSpec } from '../../src/chain/genesis.ts'
import { RegistryIndex, readModelState } from '../../src/chain/registry-index.ts'
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

const UPDATE_ABI = [
  'function update(bytes32 modelId, tuple(string name, string version, string cid, bytes32 digest, bytes32 commitment, string format, string io, uint8 policy, uint256 price) spec) returns (bytes32)',
  'function modelIdOf(address owner, string name, string version) pure returns (bytes32)',
]

describe('registry index', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lattice-index-'))
  const datadir = join(tmp, 'a')
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet
  let registry: Contract
  let iris: { modelId: string; cid: string; digest: string; commitment: string }
  let edges: { modelId: string }
  const list = async () => (await rpc(devnet.url, 'lattice_listModels', [])).result
  const get = async (id: string) => (await rpc(devnet.url, 'lattice_getModel', [id])).result

  async function start(): Promise<void> {
    devnet = await startTestDevnet({ datadir })
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    provider.pollingInterval = 50
    wallet = new Wallet(KEY0, provider)
    registry = new Contract(
      REGISTRY,
      [...registryAbi.fragments, ...UPDATE_ABI, 'function disallow(bytes32,address)'],
      wallet,
    )
  }
  async function stop(): Promise<void> {
    provider.destroy()
    await devnet.stop()
  }

  beforeAll(start)
  afterAll(async () => {
    await stop().catch(() => {})
    rmSync(tmp, { recursive: true, force: true })
  })

  it('follows registrations, price, allowlist, usage and updates block by block', async () => {
    iris = await deployModel(devnet.store, wallet, exampleModel('iris').bytes, { name: 'iris' })
    edges = await deployModel(devnet.store, wallet, exampleModel('edges').bytes, { name: 'edges', policy: 2 })
    await (await registry.setPrice(edges.modelId, 5n)).wait()
    await (await registry.allow(edges.modelId, ADDR1)).wait()
    const x = exampleModel('iris').sampleInput.map(abiTensor)
    const precompile = new Contract(INFERENCE, inferenceAbi, wallet)
    await (await precompile.infer(iris.modelId, x)).wait()
    await (await precompile.infer(iris.modelId, x)).wait()
    // a free run through the registry: counted by the registry, without an event
    await (await registry.infer(iris.modelId, x)).wait()

    const l = await list()
    expect(l.total).toBe(2)
    expect(await get(iris.modelId)).toMatchObject({
      name: 'iris',
      status: 'active',
      policy: 'public',
      runs: 3,
      inferences: '1',
      cid: iris.cid,
    })
    expect(await get(edges.modelId)).toMatchObject({
      name: 'edges',
      policy: 'allowlist',
      price: '5',
      allowlist: [ADDR1.toLowerCase()],
      index: 1,
    })
    expect((await rpc(devnet.url, 'lattice_listModels', [{ policy: 'allowlist' }])).result.total).toBe(1)
  })

  it("agrees field by field with the registry's storage at the head after runs that only bump the counter", async () => {
    const x = exampleModel('iris').sampleInput.map(abiTensor)
    // usage-only blocks: the index re-reads the paid-inference counter, nothing else (every other field has an event)
    await (await registry.infer(iris.modelId, x)).wait()
    await (await new Contract(INFERENCE, inferenceAbi, wallet).infer(iris.modelId, x)).wait()
    const chain = devnet.node.chain
    const sm = await chain.stateAt(chain.head)
    for (const m of (await list()).models) {
      expect(m).toMatchObject(await readModelState(sm, m.modelId))
    }
    expect(await get(iris.modelId)).toMatchObject({ inferences: '2', runs: 5 })
  })

  it('evm_revert rolls the index back with the chain', async () => {
    const snap = (await rpc(devnet.url, 'evm_snapshot')).result
    const spec = { ...iris, name: 'iris', version: '2', format: 'onnx', io: '', policy: 0, price: 0n }
    await (await registry.update(iris.modelId, spec)).wait()
    await (await registry.disallow(edges.modelId, ADDR1)).wait()
    const v2 = await registry.modelIdOf(wallet.address, 'iris', '2')
    expect(await get(iris.modelId)).toMatchObject({ status: 'deprecated', next: v2 })
    expect(await get(v2)).toMatchObject({ version: '2', previous: iris.modelId, status: 'active' })
    expect((await get(edges.modelId)).allowlist).toEqual([])
    expect((await list()).total).toBe(3)

    expect((await rpc(devnet.url, 'evm_revert', [snap])).result).toBe(true)
    expect((await list()).total).toBe(2)
    expect(await get(v2)).toBeNull()
    expect(await get(iris.modelId)).toMatchObject({ status: 'active', next: null, runs: 5 })
    expect((await get(edges.modelId)).allowlist).toEqual([ADDR1.toLowerCase()])
    // and keeps following the new branch
    await (await registry.deprecate(edges.modelId)).wait()
    expect((await get(edges.modelId)).status).toBe('deprecated')
  })

  it('survives a restart', async () => {
    const before = await list()
    await stop()
    await start()
    expect(await list()).toEqual(before)
    const info = (await rpc(devnet.url, 'lattice_nodeInfo', [])).result
    expect(info.registry.indexedBlock).toBe(info.head.number)
  })

  it('is built by block import, and rolled back when the chain is on another branch', async () => {
    const want = await list()
    const file = join(tmp, 'chain.rlp')
    await exportBlockFile(devnet.node.chain, file)
    // import into a fresh datadir whose node runs the precompile with A's model cache
    const models = devnet.modelCache
    const { createInferencePrecompile } = await import('../../src/precompiles/inference.ts')
    const { createSessionCache } = await import('../../src/inference/cache.ts')
    const inference = createInferencePrecompile({ models, sessions: createSessionCache() })
    const chain = await Chain.open({ datadir: join(tmp, 'b'), spec: loadChainSpec(), inference })
    try {
      const index = await RegistryIndex.open(chain)
      chain.listeners.push(index)
      await importBlockFile(chain, file)
      const got = await index.list()
      expect(got.total).toBe(want.total)
      expect(got.models).toEqual(want.models)

      // the chain moves to another branch behind the index's back (a crash between reset and index write):
      // on open, the index undoes the blocks that are no longer canonical and indexes the new ones
      chain.listeners.length = 0
      await chain.exclusive(() => chain.resetHead(2n))
      await chain.exclusive(() => chain.mine([], { timestamp: chain.head.header.timestamp + 1000n }))
      const reopened = await RegistryIndex.open(chain)
      const after = await reopened.list()
      expect(after.total).toBe(2)
      expect(after.models.map((m) => m.name)).toEqual(['iris', 'edges'])
      expect(after.models[1]).toMatchObject({ price: '0', allowlist: [], status: 'active' })
      expect((await reopened.head()).number).toBe(3n)
    } finally {
      await chain.close()
    }
  })

  it('answers as of the head the chain adopted while the chain is still telling its listeners', async () => {
    // the chain makes a block its head, then tells the listeners in turn; hold the index back behind a slow one
    const chain = devnet.node.chain
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const slow = { onBlockCommitted: () => gate, onReset: async () => {} }
    chain.listeners.unshift(slow)
    try {
      const before = BigInt((await rpc(devnet.url, 'eth_blockNumber')).result)
      const deployed = deployModel(devnet.store, wallet, exampleModel('bigram').bytes, { name: 'late-reader' })
      while (BigInt((await rpc(devnet.url, 'eth_blockNumber')).result) === before) {
        await new Promise((r) => setTimeout(r, 10))
      }
      // a client saw the new head; the index has not indexed it yet, so the read waits for it
      const reading = list()
      await new Promise((r) => setTimeout(r, 300))
      release()
      const [l, m] = await Promise.all([reading, deployed])
      expect(l.models.map((x: { modelId: string }) => x.modelId)).toContain(m.modelId)
    } finally {
      release()
      chain.listeners.splice(chain.listeners.indexOf(slow), 1)
    }
  })
})
