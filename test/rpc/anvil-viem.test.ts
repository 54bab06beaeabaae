// viem's test actions (createTestClient({ mode: 'anvil' })) run one scenario against a devnet and against anvil:
// the same assertions hold on both.
import type { Address } from 'viem'
import { createPublicClient, createTestClient, createWalletClient, defineChain, http, parseEther } from 'viem'
import { describe, expect, it } from 'vitest'
import { devnetBesideAnvil } from '../helpers/anvil.ts'
import { ADDR1, CHAIN_ID } from '../helpers/devnet.ts'

const WHALE: Address = '0x1111111111111111111111111111111111111111'

async function scenario(url: string): Promise<void> {
  const chain = defineChain({
    id: CHAIN_ID,
    name: 'test',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  })
  const test = createTestClient({ mode: 'anvil', chain, transport: http(url) })
  const pub = createPublicClient({ chain, transport: http(url) })

  await test.setBalance({ address: WHALE, value: parseEther('100') })
  expect(await pub.getBalance({ address: WHALE })).toBe(parseEther('100'))

  // impersonation: a JSON-RPC account with no key on the node
  await test.impersonateAccount({ address: WHALE })
  const wallet = createWalletClient({ account: WHALE, chain, transport: http(url) })
  const before = await pub.getBalance({ address: ADDR1 })
  const hash = await wallet.sendTransaction({ to: ADDR1, value: parseEther('1') })
  const receipt = await pub.waitForTransactionReceipt({ hash })
  expect(receipt.from.toLowerCase()).toBe(WHALE)
  expect(await pub.getBalance({ address: ADDR1 })).toBe(before + parseEther('1'))
  await test.stopImpersonatingAccount({ address: WHALE })
  await expect(wallet.sendTransaction({ to: ADDR1, value: 1n })).rejects.toThrow()

  // mining and time
  const n0 = await pub.getBlockNumber({ cacheTime: 0 })
  await test.mine({ blocks: 5 })
  expect(await pub.getBlockNumber({ cacheTime: 0 })).toBe(n0 + 5n)
  const latest = await pub.getBlock()
  const target = latest.timestamp + 1000n
  await test.setNextBlockTimestamp({ timestamp: target })
  await test.mine({ blocks: 1 })
  expect((await pub.getBlock()).timestamp).toBe(target)
  expect(await test.getAutomine()).toBe(true)

  // dump, change, load: the dumped account comes back
  await test.setBalance({ address: WHALE, value: parseEther('7') })
  const dump = await test.dumpState()
  await test.setBalance({ address: WHALE, value: parseEther('9') })
  await test.setCode({ address: WHALE, bytecode: '0x6001' })
  await test.loadState({ state: dump })
  expect(await pub.getBalance({ address: WHALE })).toBe(parseEther('7'))
  expect(await pub.getCode({ address: WHALE })).toBeUndefined()

  // storage and nonce
  await test.setStorageAt({ address: WHALE, index: 2, value: `0x${'00'.repeat(31)}05` })
  expect(await pub.getStorageAt({ address: WHALE, slot: '0x2' })).toBe(`0x${'00'.repeat(31)}05`)
  await test.setNonce({ address: WHALE, nonce: 42 })
  expect(await pub.getTransactionCount({ address: WHALE })).toBe(42)

  // reset: back to an empty chain (viem's reset() names a fork block, which anvil refuses without a fork URL)
  await test.request({ method: 'anvil_reset', params: [] } as never)
  expect(await pub.getBlockNumber({ cacheTime: 0 })).toBe(0n)
  expect(await pub.getBalance({ address: WHALE })).toBe(0n)
}

describe("viem's anvil test actions", () => {
  const both = devnetBesideAnvil(CHAIN_ID)

  it('pass against anvil', async () => {
    await scenario(both.anvil.url)
  }, 120_000)

  it('pass against the devnet', async () => {
    await scenario(both.devnet.url)
  }, 120_000)

  it("loads a dump anvil wrote (anvil's account format)", async () => {
    const on = (url: string) =>
      createTestClient({ mode: 'anvil', chain: { id: CHAIN_ID } as never, transport: http(url) })
    const code = '0x60016000f3'
    await on(both.anvil.url).setBalance({ address: WHALE, value: 12345n })
    await on(both.anvil.url).setCode({ address: WHALE, bytecode: code })
    await on(both.anvil.url).setStorageAt({ address: WHALE, index: 1, value: `0x${'00'.repeat(31)}09` })
    const dump = await on(both.anvil.url).dumpState()
    await on(both.devnet.url).loadState({ state: dump })
    const pub = createPublicClient({ transport: http(both.devnet.url) })
    expect(await pub.getBalance({ address: WHALE })).toBe(12345n)
    expect(await pub.getCode({ address: WHALE })).toBe(code)
    expect(await pub.getStorageAt({ address: WHALE, slot: '0x1' })).toBe(`0x${'00'.repeat(31)}09`)
  }, 120_000)
})
