import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ExecutionPayload } from '@ethereumjs/block'
import { createBlockFromExecutionPayload } from '@ethereumjs/block'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import { sha256 } from 'ethereum-cryptography/sha256.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initDatadir } from '../../src/chain/datadir.ts'
import { createChainCommon, DEVNET_GENESIS_PATH, loadChainSpec } from '../../src/chain/genesis.ts'
import type { RunningNode } from '../../src/cli/node.ts'
import { startNode } from '../../src/cli/node.ts'
import { ADDR0, ADDR1, CHAIN_ID, KEY0, rpc } from '../helpers/devnet.ts'

const FEE_RECIPIENT = `0x${'fe'.repeat(20)}`
const PREV_RANDAO = `0x${'11'.repeat(32)}`
const BEACON_ROOT: `0x${string}` = `0x${'22'.repeat(32)}`
const WITHDRAW_TO = `0x${'a7'.repeat(20)}`
const GWEI = 1_000_000_000n
/** A key whose account the genesis does not fund. */
const POOR_KEY = `0x${'42'.repeat(32)}`

/** A signed EIP-1559 transfer, from account #0 (the devnet genesis funds it) unless another key is given. */
function transfer(nonce: bigint, value: bigint, key: string = KEY0): string {
  const common = createChainCommon(loadChainSpec())
  const tx = createTx(
    {
      type: 2,
      nonce,
      to: ADDR1,
      value,
      gasLimit: 21000n,
      maxFeePerGas: 10n * GWEI,
      maxPriorityFeePerGas: 2n,
      chainId: BigInt(CHAIN_ID),
    },
    { common },
  ).sign(hexToBytes(key as `0x${string}`))
  return bytesToHex(tx.serialize())
}

/** EIP-7685 requests hash of the payload's (non-empty) execution requests. */
function requestsHash(requests: string[]): `0x${string}` {
  return bytesToHex(sha256(concatBytes(...requests.map((r) => sha256(hexToBytes(r as `0x${string}`))))))
}

describe('testing_buildBlockV1 (lattice node --testing-api)', () => {
  let tmp: string
  let running: RunningNode
  let url: string
  let genesis: { hash: string; timestamp: string; baseFeePerGas: string; gasLimit: string; stateRoot: string }

  const call = async (method: string, params: unknown[] = []) => {
    const r = await rpc(url, method, params)
    if (r.error) throw Object.assign(new Error(r.error.message), r.error)
    return r.result
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lattice-testing-'))
    await initDatadir({ datadir: tmp, genesisPath: fileURLToPath(DEVNET_GENESIS_PATH) })
    // a node without a miner, as in hive: testing_buildBlockV1 is the only block producer
    running = await startNode({ datadir: tmp, port: 0, mining: { kind: 'off' }, testingApi: true })
    url = running.server.url
    genesis = await call('eth_getBlockByNumber', ['0x0', false])
  }, 180_000)

  afterAll(async () => {
    await running?.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('is not served without --testing-api', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lattice-testing-off-'))
    try {
      await initDatadir({ datadir: dir, genesisPath: fileURLToPath(DEVNET_GENESIS_PATH) })
      const plain = await startNode({ datadir: dir, port: 0, mining: { kind: 'off' } })
      try {
        const r = await rpc(plain.server.url, 'testing_buildBlockV1', [genesis.hash, { timestamp: '0x1' }])
        expect(r.error?.code).toBe(-32601)
      } finally {
        await plain.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('builds the next block with exactly the given transactions and attributes, without moving the head; the payload imports with the same state root', async () => {
    const raw = transfer(0n, 1234n)
    const timestamp = BigInt(genesis.timestamp) + 12n
    const withdrawals = [{ index: '0x0', validatorIndex: '0x7', address: WITHDRAW_TO, amount: '0x10' }]
    const res = await call('testing_buildBlockV1', [
      genesis.hash,
      {
        timestamp: `0x${timestamp.toString(16)}`,
        prevRandao: PREV_RANDAO,
        suggestedFeeRecipient: FEE_RECIPIENT,
        withdrawals,
        parentBeaconBlockRoot: BEACON_ROOT,
      },
      [raw],
    ])
    const p = res.executionPayload
    expect(p.parentHash).toBe(genesis.hash)
    expect(p.blockNumber).toBe('0x1')
    expect(p.timestamp).toBe(`0x${timestamp.toString(16)}`)
    expect(p.transactions).toEqual([raw])
    expect(p.gasUsed).toBe('0x5208')
    expect(p.feeRecipient).toBe(FEE_RECIPIENT)
    expect(p.prevRandao).toBe(PREV_RANDAO)
    expect(p.withdrawals).toEqual(withdrawals)
    expect(p.extraData).toBe('0x')
    expect(p.blobGasUsed).toBe('0x0')
    // EIP-1559: an empty parent lowers the base fee by 1/8
    expect(BigInt(p.baseFeePerGas)).toBe((BigInt(genesis.baseFeePerGas) * 7n) / 8n)
    // geth's CalcGasLimit toward 60M: the genesis 60M stays
    expect(p.gasLimit).toBe(genesis.gasLimit)
    // the builder earns the tip: 21000 gas at 2 wei
    expect(res.blockValue).toBe(`0x${(21000n * 2n).toString(16)}`)
    expect(res.blobsBundle).toEqual({ commitments: [], proofs: [], blobs: [] })
    expect(res.executionRequests).toEqual([])
    expect(res.shouldOverrideBuilder).toBe(false)
    expect(p.stateRoot).not.toBe(genesis.stateRoot)

    // built, not imported: the node's head and state are where they were
    expect(await call('eth_blockNumber')).toBe('0x0')
    expect(await call('eth_getBalance', [WITHDRAW_TO, 'latest'])).toBe('0x0')
    expect(await call('eth_getTransactionCount', [ADDR0, 'latest'])).toBe('0x0')

    // as a consensus client would: the payload becomes a block that imports, and its state root holds
    const chain = running.node.chain
    const common = chain.common.copy()
    common.setHardforkBy({ blockNumber: 1n, timestamp })
    const block = await createBlockFromExecutionPayload(
      {
        ...(p as ExecutionPayload),
        parentBeaconBlockRoot: BEACON_ROOT,
        requestsHash: requestsHash(res.executionRequests),
      },
      { common },
    )
    expect(bytesToHex(block.hash())).toBe(p.blockHash)
    expect(await chain.exclusive(() => chain.importBlock(block))).toBe('imported')
    const head = await call('eth_getBlockByNumber', ['latest', false])
    expect(head).toMatchObject({
      number: '0x1',
      hash: p.blockHash,
      stateRoot: p.stateRoot,
      receiptsRoot: p.receiptsRoot,
      miner: FEE_RECIPIENT,
      mixHash: PREV_RANDAO,
      parentBeaconBlockRoot: BEACON_ROOT,
    })
    // the withdrawal (amount in gwei) and the transfer are in the imported state
    expect(BigInt(await call('eth_getBalance', [WITHDRAW_TO, 'latest']))).toBe(16n * GWEI)
    expect(await call('eth_getTransactionCount', [ADDR0, 'latest'])).toBe('0x1')
    const receipt = await call('eth_getTransactionReceipt', [bytesToHex(block.transactions[0].hash())])
    expect(receipt).toMatchObject({ status: '0x1', gasUsed: '0x5208', blockNumber: '0x1' })
  })

  it('with a null transaction list takes the pool’s pending transactions', async () => {
    const head = await call('eth_getBlockByNumber', ['latest', false])
    const raw = transfer(BigInt(await call('eth_getTransactionCount', [ADDR0, 'latest'])), 99n)
    await call('eth_sendRawTransaction', [raw])
    const ts = `0x${(BigInt(head.timestamp) + 12n).toString(16)}`
    const fromPool = await call('testing_buildBlockV1', [head.hash, { timestamp: ts }, null])
    expect(fromPool.executionPayload.transactions).toEqual([raw])
    expect(fromPool.executionPayload.gasUsed).toBe('0x5208')
    expect(fromPool.executionPayload.blockNumber).toBe(`0x${(BigInt(head.number) + 1n).toString(16)}`)
    // an explicit empty list builds an empty block, whatever the pool holds
    const empty = await call('testing_buildBlockV1', [head.hash, { timestamp: ts }, []])
    expect(empty.executionPayload.transactions).toEqual([])
    expect(empty.executionPayload.gasUsed).toBe('0x0')
    expect(empty.blockValue).toBe('0x0')
    expect(await call('eth_blockNumber')).toBe(head.number)
  })

  it('refuses an unknown parent and a malformed transaction', async () => {
    const head = await call('eth_getBlockByNumber', ['latest', false])
    const ts = `0x${(BigInt(head.timestamp) + 12n).toString(16)}`
    const unknown = await rpc(url, 'testing_buildBlockV1', [`0x${'99'.repeat(32)}`, { timestamp: ts }, []])
    expect(unknown.error).toEqual({ code: -32000, message: 'unknown parent block' })
    const bad = await rpc(url, 'testing_buildBlockV1', [head.hash, { timestamp: ts }, ['0x02c0ffee']])
    expect(bad.error.code).toBe(-32602)
    expect(bad.error.message).toMatch(/^invalid argument 2: transaction 0: /)
    // a well-formed transaction that cannot run (its sender has nothing) is refused, not skipped
    const poor = await rpc(url, 'testing_buildBlockV1', [head.hash, { timestamp: ts }, [transfer(0n, 1n, POOR_KEY)]])
    expect(poor.error.code).toBe(-32000)
    expect(poor.error.message).toMatch(/enough funds/)
    const noAttrs = await rpc(url, 'testing_buildBlockV1', [head.hash, null])
    expect(noAttrs.error.code).toBe(-32602)
  })
})
