// src/chain/block-memo.ts: a past block read by number is decoded once per head, and a new head (a new block, a
// snapshot revert that mines other blocks at the same heights) never serves a block of another chain.
import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalBlock } from '../../src/chain/block-memo.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, rpc, startTestDevnet } from '../helpers/devnet.ts'

describe('canonicalBlock', () => {
  let devnet: TestDevnet
  let reads = 0
  const source = () => {
    const chain = devnet.node.chain
    return {
      get head(): Block {
        return chain.head
      },
      getBlockByNumber(n: bigint) {
        reads++
        return chain.getBlockByNumber(n)
      },
    }
  }
  const ok = async (method: string, params: unknown[] = []) => {
    const r = await rpc(devnet.url, method, params)
    expect(r.error).toBeUndefined()
    return r.result
  }

  beforeAll(async () => {
    devnet = await startTestDevnet()
    for (let i = 0; i < 3; i++) await ok('evm_mine')
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('decodes a past block once per head; the head and blocks past it are not read', async () => {
    const src = source()
    const head = devnet.node.chain.head
    const a = await canonicalBlock(src, 1n)
    const b = await canonicalBlock(src, 1n)
    expect(b).toBe(a)
    expect(reads).toBe(1)
    expect(bytesToHex(a?.hash() as Uint8Array)).toBe(
      bytesToHex((await devnet.node.chain.getBlockByNumber(1n))?.hash() as Uint8Array),
    )
    expect(await canonicalBlock(src, head.header.number)).toBe(head)
    expect(await canonicalBlock(src, head.header.number + 1n)).toBeUndefined()
    expect(reads).toBe(2)
    // a new head: read again
    await ok('evm_mine')
    expect(bytesToHex((await canonicalBlock(src, 1n))?.hash() as Uint8Array)).toBe(bytesToHex(a?.hash() as Uint8Array))
    expect(reads).toBe(3)
  }, 120_000)

  it('after a snapshot revert and other blocks at the same heights, serves the new ones', async () => {
    const src = source()
    const snap = await ok('evm_snapshot')
    await ok('evm_mine')
    await ok('evm_mine')
    const n = devnet.node.chain.head.header.number - 1n
    const before = await canonicalBlock(src, n)
    expect(await ok('evm_revert', [snap])).toBe(true)
    // other blocks at the same heights (a transfer in the first)
    await ok('eth_sendTransaction', [{ from: ADDR0, to: ADDR0, value: '0x1' }])
    while (devnet.node.chain.head.header.number < n + 1n) await ok('evm_mine')
    const after = await canonicalBlock(src, n)
    const canonical = await devnet.node.chain.getBlockByNumber(n)
    expect(bytesToHex(after?.hash() as Uint8Array)).toBe(bytesToHex(canonical?.hash() as Uint8Array))
    expect(bytesToHex(after?.hash() as Uint8Array)).not.toBe(bytesToHex(before?.hash() as Uint8Array))
  }, 120_000)
})
