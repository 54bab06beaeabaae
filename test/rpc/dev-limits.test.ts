import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BLOCK_TIMESTAMP } from '../../src/chain/timestamp-limit.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'

const hex = (n: bigint) => `0x${n.toString(16)}`
const HUGE = [2n ** 255n, 2n ** 64n, 2n ** 64n - 1n, MAX_BLOCK_TIMESTAMP + 1n]

describe('dev methods refuse timestamps the chain cannot carry', () => {
  let devnet: TestDevnet
  const head = async () => (await rpc(devnet.url, 'eth_getBlockByNumber', ['latest', false])).result

  beforeAll(async () => {
    devnet = await startTestDevnet()
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('-32602 for each, nothing changes, and a pending transaction is still mined', async () => {
    expect((await rpc(devnet.url, 'evm_setAutomine', [false])).result).toBe(true)
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
    expect(sent.result).toMatch(/^0x[0-9a-f]{64}$/)
    const before = await head()
    const offsetBefore = (await rpc(devnet.url, 'evm_increaseTime', [0])).result
    for (const ts of HUGE) {
      for (const [method, params] of [
        ['evm_increaseTime', [hex(ts)]],
        ['evm_setNextBlockTimestamp', [hex(ts)]],
        ['evm_mine', [hex(ts)]],
        ['evm_mine', [{ timestamp: hex(ts), blocks: 1 }]],
      ] as const) {
        const r = await rpc(devnet.url, method, params as unknown as unknown[])
        expect(r.error?.code, `${method} ${hex(ts)}`).toBe(-32602)
        expect(r.error.message).toMatch(/largest block timestamp/)
      }
    }
    // a run of blocks that would end past the limit is refused too
    const run = await rpc(devnet.url, 'evm_mine', [{ timestamp: hex(MAX_BLOCK_TIMESTAMP - 1n), blocks: 5 }])
    expect(run.error?.code).toBe(-32602)
    expect((await head()).hash).toBe(before.hash)
    expect((await rpc(devnet.url, 'evm_increaseTime', [0])).result).toBe(offsetBefore)

    expect((await rpc(devnet.url, 'evm_mine')).result).toBe('0x0')
    const mined = await head()
    expect(BigInt(mined.number)).toBe(BigInt(before.number) + 1n)
    expect(mined.transactions).toContain(sent.result)
    expect(BigInt(mined.timestamp)).toBeLessThan(BigInt(Math.floor(Date.now() / 1000)) + 60n)
  }, 120_000)

  it('the largest timestamp itself is accepted and mined', async () => {
    const snap = (await rpc(devnet.url, 'evm_snapshot')).result
    expect((await rpc(devnet.url, 'evm_setNextBlockTimestamp', [hex(MAX_BLOCK_TIMESTAMP)])).error).toBeUndefined()
    expect((await rpc(devnet.url, 'evm_mine')).result).toBe('0x0')
    expect(BigInt((await head()).timestamp)).toBe(MAX_BLOCK_TIMESTAMP)
    // a head at the limit cannot have a child: the next block is refused, the head stays
    const next = await rpc(devnet.url, 'evm_mine')
    expect(next.error?.code).toBe(-32602)
    expect(next.error.message).toMatch(/next block timestamp/)
    expect(BigInt((await head()).timestamp)).toBe(MAX_BLOCK_TIMESTAMP)
    expect((await rpc(devnet.url, 'evm_revert', [snap])).result).toBe(true)
  }, 120_000)
})
