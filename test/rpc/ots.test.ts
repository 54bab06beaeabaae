// ots_* and erigon_getHeaderByNumber against a devnet, compared with anvil running the same transactions from the
// same account (so addresses, nonces, block numbers, calldata and return data agree on both chains).
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { Contract, ContractFactory, JsonRpcProvider, Wallet, ZeroHash } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import { compileContract } from '../helpers/solc.ts'

const ANVIL = join(
  dirname(createRequire(import.meta.url).resolve('@foundry-rs/anvil-linux-amd64/package.json')),
  'bin',
  'anvil',
)
const FIXTURE = new URL('../fixtures/OtsFixture.sol', import.meta.url).pathname

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function startAnvil(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(ANVIL, ['--port', String(port), '--silent'], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    try {
      if ((await rpc(url, 'eth_chainId')).result) return { url, child }
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill()
  throw new Error('anvil did not start')
}

/** The result of a call, failing the test on an RPC error. */
async function call(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await rpc(url, method, params)
  if (r.error) throw new Error(`${method} on ${url}: ${JSON.stringify(r.error)}`)
  return r.result
}

/** Types of a JSON value, recursively (arrays by their first element), for comparing shapes. */
function shape(v: unknown): unknown {
  if (v === null) return 'null'
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])]
  if (typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    )
  if (typeof v === 'string') return v.startsWith('0x') ? 'hex' : 'string'
  return typeof v
}

/** A copy of `o` without `keys` (fields one side adds that the other leaves out). */
const withoutKeys = (o: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)))

interface Side {
  url: string
  fixture: string
  child: string
  hashes: Record<string, string>
}

/** Deploy the fixture and run the scenario: creations, nested calls with value, a revert, a plain transfer. */
async function scenario(url: string): Promise<Side> {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 })
  try {
    const wallet = new Wallet(KEY0, provider)
    const fx = compileContract(FIXTURE, 'OtsFixture')
    const factory = await new ContractFactory(fx.abi, fx.bytecode, wallet).deploy({ value: 10, gasLimit: 2_000_000 })
    await factory.waitForDeployment()
    const fixture = await factory.getAddress()
    const c = new Contract(fixture, fx.abi, wallet)
    const opts = { gasLimit: 1_000_000 }
    const make = await (await c.make(opts)).wait()
    const child = `0x${make.logs[0].data.slice(26)}`
    const make2 = await (await c.make2(ZeroHash, opts)).wait()
    const nest = await (await c.nest(child, { ...opts, value: 5 })).wait()
    const failTx = await c.nestFail(child, opts)
    await provider.waitForTransaction(failTx.hash)
    const pay = await (await c.pay(ADDR1, { ...opts, value: 7 })).wait()
    const transfer = await (await wallet.sendTransaction({ to: ADDR1, value: 3n, gasLimit: 21_000 })).wait()
    return {
      url,
      fixture: fixture.toLowerCase(),
      child,
      hashes: {
        deploy: factory.deploymentTransaction()!.hash,
        make: make.hash,
        make2: make2.hash,
        nest: nest.hash,
        nestFail: failTx.hash,
        pay: pay.hash,
        transfer: transfer!.hash,
      },
    }
  } finally {
    provider.destroy()
  }
}

describe('ots_* (Otterscan API level 8) against anvil', () => {
  let devnet: TestDevnet
  let anvil: { url: string; child: ChildProcess }
  let ours: Side
  let theirs: Side
  let inferenceTx: string
  let inferenceBlock: number

  beforeAll(async () => {
    anvil = await startAnvil()
    devnet = await startTestDevnet()
    theirs = await scenario(anvil.url)
    ours = await scenario(devnet.url)
    // then, on Lattice only, a model and an inference transaction
    const provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    provider.pollingInterval = 50
    try {
      const wallet = new Wallet(KEY0, provider)
      const iris = await deployModel(devnet.store, wallet, exampleModel('iris').bytes, { name: 'iris' })
      const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
      const data = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
      const tx = await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: 5_000_000 })
      const r = await tx.wait()
      inferenceTx = tx.hash
      inferenceBlock = r!.blockNumber
    } finally {
      provider.destroy()
    }
  }, 180_000)

  afterAll(async () => {
    anvil?.child.kill()
    await devnet?.stop()
  })

  it('both chains ran the scenario at the same addresses', () => {
    expect(ours.fixture).toBe(theirs.fixture)
    expect(ours.child).toBe(theirs.child)
  })

  it('ots_getApiLevel is 8 and erigon_getHeaderByNumber is the block', async () => {
    expect(await call(devnet.url, 'ots_getApiLevel')).toBe(8)
    expect(await call(anvil.url, 'ots_getApiLevel')).toBe(8)
    const header = await call(devnet.url, 'erigon_getHeaderByNumber', [2])
    const block = await call(devnet.url, 'eth_getBlockByNumber', ['0x2', false])
    expect(header).toEqual(block)
    expect(await call(devnet.url, 'erigon_getHeaderByNumber', [999])).toBeNull()
    expect(shape(withoutKeys(header, ['totalDifficulty']))).toEqual(
      shape(withoutKeys(await call(anvil.url, 'erigon_getHeaderByNumber', [2]), ['totalDifficulty'])),
    )
  })

  it('ots_hasCode: a contract has code from its creation block on, an account never', async () => {
    for (const url of [devnet.url, anvil.url]) {
      expect(await call(url, 'ots_hasCode', [ours.child, 'latest'])).toBe(true)
      // the child is created in block 2
      expect(await call(url, 'ots_hasCode', [ours.child, 1])).toBe(false)
      expect(await call(url, 'ots_hasCode', [ours.child, 2])).toBe(true)
      expect(await call(url, 'ots_hasCode', [ADDR1, 'latest'])).toBe(false)
    }
    expect(await call(devnet.url, 'ots_hasCode', [ours.child, '0x1'])).toBe(false)
  })

  it('ots_traceTransaction: the same calls as anvil, and CREATE frames as Otterscan lists them', async () => {
    for (const k of Object.keys(ours.hashes)) {
      const mine = await call(devnet.url, 'ots_traceTransaction', [ours.hashes[k]])
      const anv = await call(anvil.url, 'ots_traceTransaction', [theirs.hashes[k]])
      // anvil leaves creations out of this list; Erigon (and Lattice) keep them
      const calls = mine.filter((e: any) => e.type !== 'CREATE' && e.type !== 'CREATE2')
      expect(calls, k).toEqual(anv)
    }
    const nest = await call(devnet.url, 'ots_traceTransaction', [ours.hashes.nest])
    expect(nest.map((e: any) => [e.type, e.depth, e.value])).toEqual([
      ['CALL', 0, '0x5'],
      ['CALL', 1, '0x5'],
      ['CALL', 1, '0x0'],
    ])
    const make = await call(devnet.url, 'ots_traceTransaction', [ours.hashes.make])
    expect(make[1]).toMatchObject({ type: 'CREATE', depth: 1, from: ours.fixture, to: ours.child, value: '0x1' })
    const fail = await call(devnet.url, 'ots_traceTransaction', [ours.hashes.nestFail])
    expect(fail[1].type).toBe('STATICCALL')
    expect(await call(devnet.url, 'ots_traceTransaction', [ZeroHash])).toEqual([])
  })

  it('ots_getInternalOperations: transfers, CREATE, CREATE2 as anvil reports them', async () => {
    for (const k of Object.keys(ours.hashes)) {
      const mine = await call(devnet.url, 'ots_getInternalOperations', [ours.hashes[k]])
      const anv = await call(anvil.url, 'ots_getInternalOperations', [theirs.hashes[k]])
      expect(mine, k).toEqual(anv)
    }
    const make2 = await call(devnet.url, 'ots_getInternalOperations', [ours.hashes.make2])
    expect(make2).toHaveLength(1)
    expect(make2[0].type).toBe(3)
    const pay = await call(devnet.url, 'ots_getInternalOperations', [ours.hashes.pay])
    expect(pay.map((o: any) => [o.type, o.to, o.value])).toEqual([
      [0, ours.fixture, '0x7'],
      [0, ADDR1.toLowerCase(), '0x7'],
    ])
    const r = await rpc(devnet.url, 'ots_getInternalOperations', [ZeroHash])
    expect(r.error).toBeDefined()
  })

  it('ots_getTransactionError: the raw revert data, 0x for a success', async () => {
    const mine = await call(devnet.url, 'ots_getTransactionError', [ours.hashes.nestFail])
    expect(mine).toBe(await call(anvil.url, 'ots_getTransactionError', [theirs.hashes.nestFail]))
    // Error("child says no")
    expect(mine.slice(0, 10)).toBe('0x08c379a0')
    expect(Buffer.from(mine.slice(2), 'hex').toString('utf8')).toContain('child says no')
    expect(await call(devnet.url, 'ots_getTransactionError', [ours.hashes.nest])).toBe('0x')
    expect(await call(devnet.url, 'ots_getTransactionError', [ZeroHash])).toBe('0x')
  })

  it('ots_getBlockDetails / ByHash: the block without transactions, with count, fees and issuance', async () => {
    const mine = await call(devnet.url, 'ots_getBlockDetails', [2])
    const anv = await call(anvil.url, 'ots_getBlockDetails', [2])
    expect(shape(mine)).toEqual(shape(anv))
    expect(mine.block.transactionCount).toBe(1)
    expect(mine.block.transactions).toBeUndefined()
    const receipt = await call(devnet.url, 'eth_getTransactionReceipt', [ours.hashes.make])
    expect(BigInt(mine.totalFees)).toBe(BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice))
    expect(mine.issuance).toEqual({ blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' })
    expect(await call(devnet.url, 'ots_getBlockDetailsByHash', [mine.block.hash])).toEqual(mine)
    expect(await call(devnet.url, 'ots_getBlockDetails', ['0x2'])).toEqual(mine)
    expect((await rpc(devnet.url, 'ots_getBlockDetails', [999])).error).toBeDefined()
    expect((await rpc(devnet.url, 'ots_getBlockDetailsByHash', [ZeroHash])).error).toBeDefined()
  })

  it('ots_getBlockTransactions: full transactions and receipts with timestamps, paged', async () => {
    const mine = await call(devnet.url, 'ots_getBlockTransactions', [2, 0, 10])
    const anv = await call(anvil.url, 'ots_getBlockTransactions', [2, 0, 10])
    // anvil puts blobGasPrice on every receipt; geth (and Lattice) only on blob transactions' receipts
    anv.receipts = anv.receipts.map((r: Record<string, unknown>) => withoutKeys(r, ['blobGasPrice']))
    expect(shape(mine)).toEqual(shape(anv))
    expect(mine.fullblock.transactions[0].hash).toBe(ours.hashes.make)
    expect(mine.receipts[0].timestamp).toBe(mine.fullblock.timestamp)
    expect(mine.receipts[0].transactionHash).toBe(ours.hashes.make)
    const page1 = await call(devnet.url, 'ots_getBlockTransactions', [2, 1, 1])
    expect(page1.fullblock.transactions).toEqual([])
    expect(page1.receipts).toEqual([])
  })

  it('ots_searchTransactionsBefore/After: the same history and pages as anvil', async () => {
    const history = async (url: string, who: string, dir: 'Before' | 'After') => {
      const pages: { txs: [number, number][]; firstPage: boolean; lastPage: boolean }[] = []
      let block = 0
      for (let i = 0; i < 20; i++) {
        const r = await call(url, `ots_searchTransactions${dir}`, [who, block, 2])
        const txs = r.txs.map((t: any) => [Number(t.blockNumber), Number(t.nonce)] as [number, number])
        pages.push({ txs, firstPage: r.firstPage, lastPage: r.lastPage })
        expect(r.receipts.map((x: any) => x.transactionHash)).toEqual(r.txs.map((t: any) => t.hash))
        if (txs.length === 0 || (dir === 'Before' ? r.lastPage : r.firstPage)) break
        block = dir === 'Before' ? txs.at(-1)![0] : txs[0][0]
      }
      return pages
    }
    // the fixture's blocks only: Lattice has the inference blocks on top, so search below them
    const head = 7
    const clip = (pages: Awaited<ReturnType<typeof history>>) => pages.flatMap((p) => p.txs).filter(([b]) => b <= head)
    for (const who of [ADDR0, ours.child, ADDR1]) {
      const mine = await history(devnet.url, who, 'Before')
      const anv = await history(anvil.url, who, 'Before')
      expect(clip(mine), who).toEqual(clip(anv))
      const mineAfter = await history(devnet.url, who, 'After')
      const anvAfter = await history(anvil.url, who, 'After')
      expect(clip(mineAfter), who).toEqual(clip(anvAfter))
    }
    // ADDR0 sent every transaction: 7 of the scenario and 2 for the model, newest first, two (whole blocks) per page
    const all = (await history(devnet.url, ADDR0, 'Before')).flatMap((p) => p.txs)
    expect(all.map(([b]) => b)).toEqual([...Array(all.length).keys()].map((i) => all.length - i))
    // the child: created in 2, called in 4 (twice) and 5 (static call that reverted)
    expect(clip(await history(devnet.url, ours.child, 'Before'))).toEqual([
      [5, 4],
      [4, 3],
      [2, 1],
    ])
    // paging flags on the first page from the head and on the oldest page
    const first = await call(devnet.url, 'ots_searchTransactionsBefore', [ADDR0, 0, 2])
    expect(first.firstPage).toBe(true)
    expect(first.lastPage).toBe(false)
    const oldest = await call(devnet.url, 'ots_searchTransactionsBefore', [ADDR0, 3, 5])
    expect(oldest.txs.map((t: any) => Number(t.blockNumber))).toEqual([2, 1])
    expect(oldest.lastPage).toBe(true)
    expect(oldest.firstPage).toBe(false)
    const anvFirst = await call(anvil.url, 'ots_searchTransactionsBefore', [ADDR0, 0, 2])
    anvFirst.receipts = anvFirst.receipts.map((r: Record<string, unknown>) => withoutKeys(r, ['blobGasPrice']))
    expect(shape(first)).toEqual(shape(anvFirst))
  })

  it('an inference transaction is traced through the precompile and found by its address', async () => {
    const trace = await call(devnet.url, 'ots_traceTransaction', [inferenceTx])
    expect(trace[0]).toMatchObject({ type: 'CALL', depth: 0, to: INFERENCE.toLowerCase() })
    expect(trace[0].output.length).toBeGreaterThan(2)
    const found = await call(devnet.url, 'ots_searchTransactionsBefore', [INFERENCE, 0, 5])
    expect(found.txs.map((t: any) => t.hash)).toEqual([inferenceTx])
    expect(Number(found.txs[0].blockNumber)).toBe(inferenceBlock)
    expect(await call(devnet.url, 'ots_getTransactionError', [inferenceTx])).toBe('0x')
  })

  it('ots_getTransactionBySenderAndNonce finds each nonce, null past the last', async () => {
    for (const [k, nonce] of [
      ['deploy', 0],
      ['make', 1],
      ['nestFail', 4],
      ['transfer', 6],
    ] as const) {
      expect(await call(devnet.url, 'ots_getTransactionBySenderAndNonce', [ADDR0, nonce]), k).toBe(ours.hashes[k])
      expect(await call(anvil.url, 'ots_getTransactionBySenderAndNonce', [ADDR0, nonce]), k).toBe(theirs.hashes[k])
    }
    expect(await call(devnet.url, 'ots_getTransactionBySenderAndNonce', [ADDR0, '0x1'])).toBe(ours.hashes.make)
    expect(await call(devnet.url, 'ots_getTransactionBySenderAndNonce', [ADDR0, 999])).toBeNull()
    expect(await call(devnet.url, 'ots_getTransactionBySenderAndNonce', [ADDR1, 0])).toBeNull()
  })

  it('ots_getContractCreator: the transaction and the direct creator, null for an account', async () => {
    const mine = await call(devnet.url, 'ots_getContractCreator', [ours.child])
    const anv = await call(anvil.url, 'ots_getContractCreator', [theirs.child])
    expect(mine).toEqual({ hash: ours.hashes.make, creator: ours.fixture })
    expect(shape(mine)).toEqual(shape(anv))
    expect(anv.creator).toBe(mine.creator)
    expect(await call(devnet.url, 'ots_getContractCreator', [ours.fixture])).toEqual({
      hash: ours.hashes.deploy,
      creator: ADDR0.toLowerCase(),
    })
    expect(await call(devnet.url, 'ots_getContractCreator', [ADDR1])).toBeNull()
    expect(await call(anvil.url, 'ots_getContractCreator', [ADDR1])).toBeNull()
  })

  it('nonsense parameters get an answer, never an internal error, and the node keeps serving', async () => {
    const methods = [
      'ots_hasCode',
      'ots_getInternalOperations',
      'ots_getTransactionError',
      'ots_traceTransaction',
      'ots_getBlockDetails',
      'ots_getBlockDetailsByHash',
      'ots_getBlockTransactions',
      'ots_searchTransactionsBefore',
      'ots_searchTransactionsAfter',
      'ots_getTransactionBySenderAndNonce',
      'ots_getContractCreator',
      'erigon_getHeaderByNumber',
    ]
    const bad: unknown[][] = [
      [],
      [null],
      [{}],
      ['0xzz'],
      [ADDR0, 2 ** 60, 2],
      [ADDR0, '0xffffffffffffffff', 5],
      [1.5, -1, 'x'],
    ]
    for (const m of methods) {
      for (const params of bad) {
        const r = await rpc(devnet.url, m, params)
        expect(r.error?.code, `${m} ${JSON.stringify(params)}`).not.toBe(-32603)
      }
    }
    // a search from far past the head starts at the head
    const far = await call(devnet.url, 'ots_searchTransactionsBefore', [ADDR0, 2 ** 50, 1])
    expect(far.firstPage).toBe(true)
    expect(far.txs).toHaveLength(1)
  })

  it('bad parameters are -32602', async () => {
    expect((await rpc(devnet.url, 'ots_hasCode', ['0x12', 'latest'])).error.code).toBe(-32602)
    expect((await rpc(devnet.url, 'ots_getBlockTransactions', [1, 0, 100_000])).error.code).toBe(-32602)
    expect((await rpc(devnet.url, 'ots_searchTransactionsBefore', [ADDR0, -1, 2])).error.code).toBe(-32602)
  })
})
