// The Engine API on an Osaka chain, driven by a scripted consensus side over real HTTP with real JWTs.
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChainCommon } from '../../src/chain/genesis.ts'
import { signJwt } from '../../src/engine/jwt.ts'
import { ADDR1, KEY0, rpc } from '../helpers/devnet.ts'
import type { EngineNode } from '../helpers/engine.ts'
import { attributes, startEngineNode, ZERO_HASH } from '../helpers/engine.ts'

describe('Engine API (Osaka chain)', () => {
  let n: EngineNode
  let genesisHash: string

  beforeAll(async () => {
    n = await startEngineNode('osaka')
    genesisHash = bytesToHex(n.node.node.chain.head.hash())
  }, 120_000)

  afterAll(async () => {
    await n?.close()
  })

  function transfer(nonce: bigint, value = 5n, tip = 2_000_000_000n) {
    const common = createChainCommon(n.node.node.chain.spec)
    return createTx(
      {
        type: 2,
        nonce,
        to: ADDR1,
        value,
        gasLimit: 21000n,
        maxFeePerGas: 50_000_000_000n,
        maxPriorityFeePerGas: tip,
        chainId: 41232n,
      },
      { common },
    ).sign(hexToBytes(KEY0))
  }

  it('authenticates every request: no token, a wrong secret, an iat 2 minutes off and alg none are 401', async () => {
    const method = 'engine_exchangeCapabilities'
    const ok = await n.engine.call(method, [[]])
    expect(ok.status).toBe(200)
    const wrong = signJwt(new Uint8Array(32).fill(7))
    expect((await n.engine.call(method, [[]], wrong)).status).toBe(401)
    const stale = signJwt(n.engine.secret, Math.floor(Date.now() / 1000) - 120)
    const r = await n.engine.call(method, [[]], stale)
    expect(r.status).toBe(401)
    expect(r.text).toMatch(/iat/)
    const future = signJwt(n.engine.secret, Math.floor(Date.now() / 1000) + 120)
    expect((await n.engine.call(method, [[]], future)).status).toBe(401)
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iat: Math.floor(Date.now() / 1000) })).toString('base64url')}.`
    expect((await n.engine.call(method, [[]], none)).status).toBe(401)
    const noAuth = await fetch(n.engine.url, { method: 'POST', body: '{}' })
    expect(noAuth.status).toBe(401)
  })

  it('exchangeCapabilities, getClientVersionV1, exchangeTransitionConfigurationV1', async () => {
    const caps = await n.engine.ok('engine_exchangeCapabilities', [['engine_newPayloadV4']])
    for (const m of ['engine_newPayloadV4', 'engine_getPayloadV5', 'engine_forkchoiceUpdatedV3', 'engine_getBlobsV2']) {
      expect(caps).toContain(m)
    }
    expect(caps).not.toContain('engine_exchangeCapabilities')
    const v = await n.engine.ok('engine_getClientVersionV1', [
      { code: 'LS', name: 'Lodestar', version: 'v1', commit: '0x01020304' },
    ])
    expect(v[0]).toMatchObject({ code: 'LT', name: 'Lattice' })
    const tc = await n.engine.ok('engine_exchangeTransitionConfigurationV1', [
      { terminalTotalDifficulty: '0x0', terminalBlockHash: ZERO_HASH, terminalBlockNumber: '0x0' },
    ])
    expect(tc.terminalTotalDifficulty).toBe('0x0')
  })

  it('serves the eth_* subset the specification lists on the Engine port too (JWT required)', async () => {
    expect(await n.engine.ok('eth_chainId')).toBe('0xa110')
    expect(await n.engine.ok('eth_syncing')).toBe(false)
    expect((await n.engine.ok('eth_getBlockByNumber', ['0x0', false])).hash).toBe(genesisHash)
    expect((await n.engine.call('eth_chainId', [], signJwt(new Uint8Array(32)))).status).toBe(401)
    expect((await n.engine.call('eth_accounts')).error?.code).toBe(-32601)
  })

  it('builds a payload from the pool without moving the head, executes it with newPayload, adopts it with fcU', async () => {
    const tx = transfer(0n)
    const sent = await rpc(n.rpcUrl, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])
    expect(sent.result).toBe(bytesToHex(tx.hash()))
    // no mining of its own: the transaction waits for the consensus client
    expect((await rpc(n.rpcUrl, 'eth_blockNumber')).result).toBe('0x0')
    const ts = n.genesisTimestamp + 12n
    const fcu = await n.engine.ok('engine_forkchoiceUpdatedV3', [
      { headBlockHash: genesisHash, safeBlockHash: genesisHash, finalizedBlockHash: genesisHash },
      attributes(3, ts),
    ])
    expect(fcu.payloadStatus).toEqual({ status: 'VALID', latestValidHash: genesisHash, validationError: null })
    expect(fcu.payloadId).toMatch(/^0x[0-9a-f]{16}$/)
    const got = await n.engine.ok('engine_getPayloadV5', [fcu.payloadId])
    expect(got.executionPayload.transactions).toEqual([bytesToHex(tx.serialize())])
    expect(got.executionPayload.prevRandao).toBe(`0x${'ab'.repeat(32)}`)
    expect(got.executionPayload.feeRecipient).toBe(`0x${'11'.repeat(20)}`)
    expect(got.executionPayload.timestamp).toBe(`0x${ts.toString(16)}`)
    expect(BigInt(got.blockValue)).toBe(21000n * 2_000_000_000n)
    expect(got.blobsBundle).toEqual({ commitments: [], proofs: [], blobs: [] })
    expect(got.executionRequests).toEqual([])
    // still at genesis: building is not adopting
    expect((await rpc(n.rpcUrl, 'eth_blockNumber')).result).toBe('0x0')
    const status = await n.engine.ok('engine_newPayloadV4', [got.executionPayload, [], `0x${'cd'.repeat(32)}`, []])
    expect(status).toEqual({ status: 'VALID', latestValidHash: got.executionPayload.blockHash, validationError: null })
    expect((await rpc(n.rpcUrl, 'eth_blockNumber')).result).toBe('0x0')
    const adopt = await n.engine.ok('engine_forkchoiceUpdatedV3', [
      { headBlockHash: got.executionPayload.blockHash, safeBlockHash: genesisHash, finalizedBlockHash: genesisHash },
    ])
    expect(adopt.payloadStatus.status).toBe('VALID')
    expect(adopt.payloadId).toBeNull()
    expect((await rpc(n.rpcUrl, 'eth_blockNumber')).result).toBe('0x1')
    const receipt = await rpc(n.rpcUrl, 'eth_getTransactionReceipt', [bytesToHex(tx.hash())])
    expect(receipt.result.blockHash).toBe(got.executionPayload.blockHash)
    expect((await rpc(n.rpcUrl, 'txpool_status')).result.pending).toBe('0x0')
  }, 120_000)
})
