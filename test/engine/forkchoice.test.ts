// Reorgs, unknown parents, invalid payloads and the safe/finalized tags through the Engine API (Osaka chain).
import { createBlock } from '@ethereumjs/block'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChainCommon } from '../../src/chain/genesis.ts'
import { blockToPayload, parsePayload, payloadToBlock } from '../../src/engine/payload.ts'
import { ADDR1, KEY0, rpc } from '../helpers/devnet.ts'
import type { EngineNode } from '../helpers/engine.ts'
import { attributes, produceBlock, startEngineNode, ZERO_HASH } from '../helpers/engine.ts'

const BEACON_ROOT: `0x${string}` = `0x${'cd'.repeat(32)}`

describe('Engine API forkchoice: reorg, SYNCING, INVALID, safe/finalized', () => {
  let n: EngineNode
  let genesis: string
  let block1: string
  let ts: bigint

  beforeAll(async () => {
    n = await startEngineNode('osaka')
    genesis = bytesToHex(n.node.node.chain.head.hash())
    ts = n.genesisTimestamp
  }, 120_000)

  afterAll(async () => {
    await n?.close()
  })

  const common = () => createChainCommon(n.node.node.chain.spec)
  const transfer = (nonce: bigint) =>
    createTx(
      {
        type: 2,
        nonce,
        to: ADDR1,
        value: 7n,
        gasLimit: 21000n,
        maxFeePerGas: 50_000_000_000n,
        maxPriorityFeePerGas: 1n,
        chainId: 41232n,
      },
      { common: common() },
    ).sign(hexToBytes(KEY0))
  const number = async () => (await rpc(n.rpcUrl, 'eth_blockNumber')).result
  const fcu = (head: string, safe = ZERO_HASH, finalized = ZERO_HASH, attrs?: unknown) =>
    n.engine.call('engine_forkchoiceUpdatedV3', [
      { headBlockHash: head, safeBlockHash: safe, finalizedBlockHash: finalized },
      attrs ?? null,
    ])
  const build = async (parent: string, timestamp: bigint, feeRecipient: string) => {
    const r = await fcu(parent, ZERO_HASH, ZERO_HASH, attributes(3, timestamp, feeRecipient))
    expect(r.result.payloadId).toBeTruthy()
    return n.engine.ok('engine_getPayloadV5', [r.result.payloadId])
  }
  const newPayload = (payload: unknown) => n.engine.ok('engine_newPayloadV4', [payload, [], BEACON_ROOT, []])
  /** A payload with some header fields changed and its hash recomputed. */
  async function altered(payload: any, change: Record<string, unknown>): Promise<Record<string, unknown>> {
    const block = await payloadToBlock(parsePayload(payload, 'p', 'v3', true), n.node.node.chain.common, {
      parentBeaconBlockRoot: BEACON_ROOT,
      requestsHash: n.node.node.chain.head.header.requestsHash
        ? bytesToHex(n.node.node.chain.head.header.requestsHash)
        : undefined,
    })
    const header = { ...block.header.toJSON(), ...change }
    const c = common()
    c.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp })
    const other = createBlock(
      { header, transactions: block.transactions, withdrawals: block.withdrawals?.map((w) => w.toJSON()) },
      { common: c },
    )
    return blockToPayload(other, 'v3')
  }

  it('block 1 through the full slot sequence, safe and finalized stored and served', async () => {
    const { payload, status } = await produceBlock(n.engine, 'osaka', genesis, ts + 12n, {
      safe: genesis,
      finalized: genesis,
    })
    expect(status.status).toBe('VALID')
    block1 = payload.blockHash
    expect(await number()).toBe('0x1')
    const r = await fcu(block1, block1, genesis)
    expect(r.result.payloadStatus.status).toBe('VALID')
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['safe', false])).result.hash).toBe(block1)
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['finalized', false])).result.hash).toBe(genesis)
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['latest', false])).result.hash).toBe(block1)
    const call = await rpc(n.rpcUrl, 'eth_call', [{ to: ADDR1, data: '0x' }, 'finalized'])
    expect(call.result).toBe('0x')
    const bal = await rpc(n.rpcUrl, 'eth_getBalance', [ADDR1, 'safe'])
    expect(bal.result).toMatch(/^0x/)
  }, 120_000)

  it('a competing sibling: both VALID, the head follows fcU, and the reorg moves the pool, receipts and lookups', async () => {
    // B first (empty pool), then A with the transaction
    const b = await build(block1, ts + 24n, `0x${'bb'.repeat(20)}`)
    const tx = transfer(0n)
    expect((await rpc(n.rpcUrl, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])).result).toBe(
      bytesToHex(tx.hash()),
    )
    const a = await build(block1, ts + 24n, `0x${'aa'.repeat(20)}`)
    expect(a.executionPayload.transactions).toHaveLength(1)
    expect(b.executionPayload.transactions).toHaveLength(0)
    const [ha, hb] = [a.executionPayload.blockHash, b.executionPayload.blockHash]
    expect((await newPayload(a.executionPayload)).status).toBe('VALID')
    expect((await newPayload(b.executionPayload)).status).toBe('VALID')
    // a side block is stored and served by hash, not by number
    expect((await rpc(n.rpcUrl, 'eth_getBlockByHash', [hb, false])).result.hash).toBe(hb)
    expect(await number()).toBe('0x1')
    expect((await fcu(ha, block1, genesis)).result.payloadStatus.status).toBe('VALID')
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['0x2', false])).result.hash).toBe(ha)
    expect((await rpc(n.rpcUrl, 'eth_getTransactionReceipt', [bytesToHex(tx.hash())])).result.blockHash).toBe(ha)
    expect((await rpc(n.rpcUrl, 'txpool_status')).result.pending).toBe('0x0')
    // reorg to the sibling
    expect((await fcu(hb, block1, genesis)).result.payloadStatus).toEqual({
      status: 'VALID',
      latestValidHash: hb,
      validationError: null,
    })
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['latest', false])).result.hash).toBe(hb)
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['0x2', false])).result.hash).toBe(hb)
    expect((await rpc(n.rpcUrl, 'eth_getTransactionReceipt', [bytesToHex(tx.hash())])).result).toBeNull()
    expect((await rpc(n.rpcUrl, 'txpool_status')).result.pending).toBe('0x1')
    expect((await rpc(n.rpcUrl, 'eth_getTransactionCount', [await addr0(), 'latest'])).result).toBe('0x0')
    // the next block on the new branch includes the transaction again
    const c = await produceBlock(n.engine, 'osaka', hb, ts + 36n, { safe: hb, finalized: block1 })
    expect(c.payload.transactions).toEqual([bytesToHex(tx.serialize())])
    expect((await rpc(n.rpcUrl, 'eth_getTransactionReceipt', [bytesToHex(tx.hash())])).result.blockHash).toBe(
      c.payload.blockHash,
    )
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['safe', false])).result.hash).toBe(hb)
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['finalized', false])).result.hash).toBe(block1)
    // and back to A's branch (its block 2 is still stored and executed): a reorg of depth 2
    expect((await fcu(ha, block1, genesis)).result.payloadStatus.status).toBe('VALID')
    expect((await rpc(n.rpcUrl, 'eth_blockNumber')).result).toBe('0x2')
    expect((await rpc(n.rpcUrl, 'eth_getTransactionReceipt', [bytesToHex(tx.hash())])).result.blockHash).toBe(ha)
    expect((await fcu(c.payload.blockHash, hb, block1)).result.payloadStatus.status).toBe('VALID')
    expect(await number()).toBe('0x3')
  }, 180_000)

  async function addr0() {
    return (await import('../helpers/devnet.ts')).ADDR0
  }

  it('SYNCING for a payload whose parent is unknown, and for fcU to an unknown head', async () => {
    const head = (await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['latest', false])).result.hash
    const got = await build(head, ts + 48n, `0x${'cc'.repeat(20)}`)
    const orphan = await altered(got.executionPayload, { parentHash: `0x${'99'.repeat(32)}` })
    expect(await newPayload(orphan)).toEqual({ status: 'SYNCING', latestValidHash: null, validationError: null })
    const r = await fcu(`0x${'98'.repeat(32)}`)
    expect(r.result).toEqual({
      payloadStatus: { status: 'SYNCING', latestValidHash: null, validationError: null },
      payloadId: null,
    })
    expect(await number()).toBe('0x3')
  }, 120_000)

  it('INVALID with latestValidHash and the state root named for a payload whose state root is wrong', async () => {
    const head = (await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['latest', false])).result.hash
    const got = await build(head, ts + 60n, `0x${'dd'.repeat(20)}`)
    const bad = await altered(got.executionPayload, { stateRoot: `0x${'77'.repeat(32)}` })
    const status = await newPayload(bad)
    expect(status.status).toBe('INVALID')
    expect(status.latestValidHash).toBe(head)
    expect(status.validationError).toMatch(/stateRoot/i)
    const r = await fcu(bad.blockHash as string)
    expect(r.result.payloadStatus.status).toBe('INVALID')
    // a payload whose fields do not hash to its blockHash
    const wrongHash = { ...got.executionPayload, blockHash: `0x${'12'.repeat(32)}` }
    const s2 = await newPayload(wrongHash)
    expect(s2.status).toBe('INVALID')
    expect(s2.latestValidHash).toBeNull()
    expect(s2.validationError).toMatch(/blockHash/i)
    expect(await number()).toBe('0x3')
  }, 120_000)
})
