// Every method version on the fork it serves (Paris .. Osaka genesis files), and each Engine API error code.
import { bytesToHex } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rpc } from '../helpers/devnet.ts'
import type { EngineNode, Fork } from '../helpers/engine.ts'
import {
  attributes,
  FORKS,
  newPayloadParams,
  produceBlock,
  startEngineNode,
  versionsFor,
  ZERO_HASH,
} from '../helpers/engine.ts'

const nodes = new Map<Fork, EngineNode>()

afterAll(async () => {
  for (const n of nodes.values()) await n.close()
})

describe.each(FORKS)('a %s chain', (fork) => {
  let n: EngineNode
  let genesis: string
  beforeAll(async () => {
    n = await startEngineNode(fork)
    nodes.set(fork, n)
    genesis = bytesToHex(n.node.node.chain.head.hash())
  }, 120_000)

  it('runs two slots with its versions, and refuses the neighbouring versions with -38005', async () => {
    const v = versionsFor(fork)
    const one = await produceBlock(n.engine, fork, genesis, n.genesisTimestamp + 12n, {
      safe: genesis,
      finalized: genesis,
    })
    expect(one.status.validationError).toBeNull()
    expect(one.status.status).toBe('VALID')
    const two = await produceBlock(n.engine, fork, one.payload.blockHash, n.genesisTimestamp + 24n, {
      safe: one.payload.blockHash,
      finalized: genesis,
    })
    expect(two.status.status).toBe('VALID')
    expect((await rpc(n.rpcUrl, 'eth_blockNumber')).result).toBe('0x2')
    expect((await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['safe', false])).result.hash).toBe(one.payload.blockHash)
    expect('withdrawals' in one.payload).toBe(fork !== 'paris')
    expect('blobGasUsed' in one.payload).toBe(v.np >= 3)
    if (v.get >= 2) expect(one.got.blockValue).toBe('0x0')
    // the other newPayload versions: -38005 for a payload of this fork (built with the params they take)
    for (const np of [1, 2, 3, 4]) {
      if (np === v.np || (np === 2 && fork === 'paris')) continue
      const shaped = { ...one.payload }
      if (np <= 2) {
        delete shaped.blobGasUsed
        delete shaped.excessBlobGas
      }
      if (np === 1) delete shaped.withdrawals
      if (np >= 3) {
        shaped.withdrawals ??= []
        shaped.blobGasUsed ??= '0x0'
        shaped.excessBlobGas ??= '0x0'
      }
      const r = await n.engine.call(`engine_newPayloadV${np}`, newPayloadParams(np, shaped))
      expect(r.error?.code, `newPayloadV${np} on ${fork}`).toBe(-38005)
    }
    // getPayload with a version of another fork
    const fcu = await n.engine.ok(`engine_forkchoiceUpdatedV${v.fcu}`, [
      { headBlockHash: two.payload.blockHash, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
      attributes(v.fcu, n.genesisTimestamp + 36n),
    ])
    for (const g of [1, 2, 3, 4, 5]) {
      if (g === v.get || (g === 2 && fork === 'paris')) continue
      const r = await n.engine.call(`engine_getPayloadV${g}`, [fcu.payloadId])
      expect(r.error?.code, `getPayloadV${g} on ${fork}`).toBe(-38005)
    }
    // forkchoiceUpdated with attributes of another version's fork
    for (const f of [1, 2, 3] as const) {
      if (f === v.fcu || (f === 2 && fork === 'paris')) continue
      const r = await n.engine.call(`engine_forkchoiceUpdatedV${f}`, [
        { headBlockHash: two.payload.blockHash, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
        attributes(f, n.genesisTimestamp + 36n),
      ])
      expect(r.error?.code, `forkchoiceUpdatedV${f} on ${fork}`).toBe(-38005)
    }
    // bodies of the canonical blocks, by hash and by range
    const byHash = await n.engine.ok('engine_getPayloadBodiesByHashV1', [
      [one.payload.blockHash, `0x${'42'.repeat(32)}`],
    ])
    expect(byHash[0].transactions).toEqual([])
    expect(byHash[0].withdrawals).toEqual(fork === 'paris' ? null : [])
    expect(byHash[1]).toBeNull()
    const byRange = await n.engine.ok('engine_getPayloadBodiesByRangeV1', ['0x1', '0x10'])
    expect(byRange).toHaveLength(2)
  }, 180_000)
})

describe('error codes', () => {
  let n: EngineNode
  let genesis: string
  const state = (head: string, safe = ZERO_HASH, finalized = ZERO_HASH) => ({
    headBlockHash: head,
    safeBlockHash: safe,
    finalizedBlockHash: finalized,
  })

  beforeAll(async () => {
    n = nodes.get('osaka') ?? (await startEngineNode('osaka'))
    nodes.set('osaka', n)
    genesis = bytesToHex(n.node.node.chain.blockchain.genesisBlock.hash())
  }, 120_000)

  it('-38001 unknown payload', async () => {
    const r = await n.engine.call('engine_getPayloadV5', ['0x0102030405060708'])
    expect(r.error?.code).toBe(-38001)
    expect(r.error?.message).toMatch(/0x0102030405060708/)
  })

  it('-38002 invalid forkchoice state: safe or finalized unknown or off the head chain', async () => {
    const r = await n.engine.call('engine_forkchoiceUpdatedV3', [state(genesis, `0x${'55'.repeat(32)}`)])
    expect(r.error?.code).toBe(-38002)
    expect(r.error?.message).toMatch(/safeBlockHash/)
    const head = (await rpc(n.rpcUrl, 'eth_getBlockByNumber', ['latest', false])).result.hash
    // finalized ahead of the head (the head's child is not its ancestor)
    const f = await n.engine.call('engine_forkchoiceUpdatedV3', [state(genesis, ZERO_HASH, head)])
    if (head !== genesis) expect(f.error?.code).toBe(-38002)
  })

  it('-38003 invalid payload attributes: a timestamp not after the head', async () => {
    const head = n.node.node.chain.head
    const r = await n.engine.call('engine_forkchoiceUpdatedV3', [
      state(bytesToHex(head.hash())),
      attributes(3, head.header.timestamp),
    ])
    expect(r.error?.code).toBe(-38003)
    expect(r.error?.message).toMatch(/timestamp/)
  })

  it('-38004 too large request', async () => {
    const r = await n.engine.call('engine_getPayloadBodiesByRangeV1', ['0x1', '0x401'])
    expect(r.error?.code).toBe(-38004)
    const hashes = Array.from({ length: 129 }, () => `0x${'01'.repeat(32)}`)
    expect((await n.engine.call('engine_getBlobsV1', [hashes])).error?.code).toBe(-38004)
    expect(await n.engine.ok('engine_getBlobsV1', [hashes.slice(0, 2)])).toEqual([null, null])
    expect(await n.engine.ok('engine_getBlobsV2', [hashes.slice(0, 2)])).toBeNull()
  })

  it('-32602 with the field named', async () => {
    const r1 = await n.engine.call('engine_forkchoiceUpdatedV3', [
      state(genesis),
      { ...attributes(3, n.genesisTimestamp + 500n), parentBeaconBlockRoot: undefined },
    ])
    expect(r1.error?.code).toBe(-32602)
    expect(r1.error?.message).toMatch(/payloadAttributes\.parentBeaconBlockRoot/)
    const r2 = await n.engine.call('engine_newPayloadV4', [{ parentHash: genesis }, [], ZERO_HASH, []])
    expect(r2.error?.code).toBe(-32602)
    expect(r2.error?.message).toMatch(/executionPayload\.feeRecipient/)
    const r3 = await n.engine.call('engine_forkchoiceUpdatedV3', [{ headBlockHash: '0x12' }])
    expect(r3.error?.code).toBe(-32602)
    expect(r3.error?.message).toMatch(/forkchoiceState\.headBlockHash/)
    const r4 = await n.engine.call('engine_newPayloadV4', [{}, [], ZERO_HASH])
    expect(r4.error?.code).toBe(-32602)
    const r5 = await n.engine.call('engine_getPayloadBodiesByRangeV1', ['0x0', '0x1'])
    expect(r5.error?.message).toMatch(/start/)
  })

  it('-32601 for a method the Engine port does not serve', async () => {
    expect((await n.engine.call('eth_sendTransaction', [{}])).error?.code).toBe(-32601)
  })
})
