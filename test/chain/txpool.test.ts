import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, KEY0, KEY1, startTestDevnet } from '../helpers/devnet.ts'

describe('txpool and block production', () => {
  let devnet: TestDevnet
  const to = createAddressFromString(ADDR1)

  function transfer(
    key: string,
    nonce: bigint,
    fees: { max?: bigint; tip?: bigint; gas?: bigint; value?: bigint; chainId?: bigint } = {},
  ) {
    return createFeeMarket1559Tx(
      {
        nonce,
        maxFeePerGas: fees.max ?? 10n ** 10n,
        maxPriorityFeePerGas: fees.tip ?? 10n ** 9n,
        gasLimit: fees.gas ?? 21000n,
        to,
        value: fees.value ?? 1n,
        chainId: fees.chainId ?? devnet.node.chain.chainId,
      },
      { common: devnet.node.chain.common },
    ).sign(hexToBytes(key as `0x${string}`))
  }
  const send = (tx: TypedTransaction) => devnet.node.sendRawTransaction(tx.serialize())
  const nonceOf = async (addr: string) =>
    devnet.node.chain.exclusive(
      async () => (await devnet.node.chain.stateManager.getAccount(createAddressFromString(addr)))?.nonce ?? 0n,
    )

  beforeAll(async () => {
    devnet = await startTestDevnet()
  })
  afterAll(async () => {
    await devnet.stop()
  })
  beforeEach(() => {
    devnet.node.automine = true
  })

  it('automine: a block per transaction, mined before the call returns', async () => {
    const head = devnet.node.chain.head.header.number
    const hash = await send(transfer(KEY0, await nonceOf(ADDR0)))
    expect(devnet.node.chain.head.header.number).toBe(head + 1n)
    const loc = await devnet.node.chain.getTransaction(hash)
    expect(loc?.block.header.number).toBe(head + 1n)
  })

  it('rejects nonce too low', async () => {
    const n = await nonceOf(ADDR0)
    await expect(send(transfer(KEY0, n - 1n))).rejects.toThrow(/nonce too low/)
  })

  it('rejects insufficient funds', async () => {
    const n = await nonceOf(ADDR0)
    await expect(send(transfer(KEY0, n, { value: 10n ** 30n }))).rejects.toThrow(/insufficient funds/)
  })

  it('rejects a fee cap under the next base fee as underpriced', async () => {
    await expect(send(transfer(KEY0, await nonceOf(ADDR0), { max: 1n, tip: 1n }))).rejects.toThrow(/underpriced/)
  })

  it('rejects a gas limit over the EIP-7825 cap and over the block gas limit', async () => {
    const n = await nonceOf(ADDR0)
    // ethereumjs will not even build such a transaction under Osaka: sign it under Prague rules
    const prague = devnet.node.chain.common.copy()
    prague.setHardfork('prague')
    const big = (gas: bigint) =>
      createFeeMarket1559Tx(
        { nonce: n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, gasLimit: gas, to, chainId: prague.chainId() },
        { common: prague },
      ).sign(hexToBytes(KEY0))
    await expect(send(big(20_000_000n))).rejects.toThrow(/gas limit too high \(cap: 16777216, tx: 20000000\)/)
    await expect(send(big(100_000_000n))).rejects.toThrow(/gas limit too high/)
  })

  it('rejects intrinsic gas too low', async () => {
    await expect(send(transfer(KEY0, await nonceOf(ADDR0), { gas: 20_000n }))).rejects.toThrow(/intrinsic gas too low/)
  })

  it('rejects the wrong chain id', async () => {
    const c1 = createCustomCommon({ chainId: 1 }, Mainnet, { hardfork: 'prague' })
    const typed = createFeeMarket1559Tx(
      { nonce: 0n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, gasLimit: 21000n, to, chainId: 1n },
      { common: c1 },
    ).sign(hexToBytes(KEY1 as `0x${string}`))
    await expect(send(typed)).rejects.toThrow(/invalid chain id: have 1, want 41232/)
    const other = createCustomCommon({ chainId: 1 }, Mainnet, { hardfork: 'prague' })
    // a legacy tx signed for another chain (EIP-155 v encodes chain 1)
    const foreign = createLegacyTx({ nonce: 0n, gasPrice: 10n ** 10n, gasLimit: 21000n, to }, { common: other }).sign(
      hexToBytes(KEY1 as `0x${string}`),
    )
    await expect(devnet.node.sendRawTransaction(foreign.serialize())).rejects.toThrow(/invalid chain id/)
  })

  it('rejects a duplicate while it is pending', async () => {
    devnet.node.automine = false
    const tx = transfer(KEY1, await nonceOf(ADDR1))
    await send(tx)
    await expect(send(tx)).rejects.toThrow(/already known/)
    await devnet.node.mine()
    expect(devnet.node.pool.size).toBe(0)
  })

  it('replaces a pending transaction only with a 10% higher fee', async () => {
    devnet.node.automine = false
    const n = await nonceOf(ADDR1)
    const first = transfer(KEY1, n, { max: 10n ** 10n, tip: 10n ** 9n })
    await send(first)
    await expect(send(transfer(KEY1, n, { max: 10n ** 10n + 1n, tip: 10n ** 9n + 1n, value: 2n }))).rejects.toThrow(
      /replacement transaction underpriced/,
    )
    const better = transfer(KEY1, n, { max: 2n * 10n ** 10n, tip: 2n * 10n ** 9n, value: 3n })
    await send(better)
    expect(devnet.node.pool.size).toBe(1)
    const { block } = await devnet.node.mine()
    expect(block.transactions.map((t) => bytesToHex(t.hash()))).toEqual([bytesToHex(better.hash())])
  })

  it('orders a block by nonce per sender and by tip across senders; holds nonce gaps', async () => {
    devnet.node.automine = false
    const n0 = await nonceOf(ADDR0)
    const n1 = await nonceOf(ADDR1)
    const a0 = transfer(KEY0, n0, { tip: 1n * 10n ** 9n })
    const a1 = transfer(KEY0, n0 + 1n, { tip: 5n * 10n ** 9n })
    const b0 = transfer(KEY1, n1, { tip: 3n * 10n ** 9n })
    const gap = transfer(KEY1, n1 + 2n, { tip: 9n * 10n ** 9n })
    for (const tx of [a1, gap, b0, a0]) await send(tx)
    const { block } = await devnet.node.mine()
    const order = block.transactions.map((t) => bytesToHex(t.hash()))
    // b0 (tip 3) beats a0 (tip 1); a1 can only follow a0
    expect(order).toEqual([b0, a0, a1].map((t) => bytesToHex(t.hash())))
    // the gapped transaction waits in the pool
    expect(devnet.node.pool.has(bytesToHex(gap.hash()))).toBe(true)
    // filling the gap releases it
    await send(transfer(KEY1, n1 + 1n))
    const next = await devnet.node.mine()
    expect(next.block.transactions).toHaveLength(2)
    expect(devnet.node.pool.size).toBe(0)
  })

  it('interval mining produces blocks on its own', async () => {
    devnet.node.automine = false
    const start = devnet.node.chain.head.header.number
    devnet.node.startIntervalMining(0.2)
    await send(transfer(KEY0, await nonceOf(ADDR0)))
    const deadline = Date.now() + 5000
    while (devnet.node.chain.head.header.number < start + 2n && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    devnet.node.stopIntervalMining()
    expect(devnet.node.chain.head.header.number).toBeGreaterThanOrEqual(start + 2n)
    expect(devnet.node.pool.size).toBe(0)
  })
})
