import { ContractFactory, JsonRpcProvider, parseEther, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR1, CHAIN_ID, KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { COUNTER_SOL, compileContract } from '../helpers/solc.ts'

describe('ethers v6 against a real devnet', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, {
      staticNetwork: true,
      pollingInterval: 50,
      cacheTimeout: -1,
    })
    wallet = new Wallet(KEY0, provider)
  })
  afterAll(async () => {
    provider.destroy()
    await devnet.stop()
  })

  it('reports the devnet chain id', async () => {
    const net = await provider.getNetwork()
    expect(net.chainId).toBe(BigInt(CHAIN_ID))
  })

  it('transfers value and the receipt is there at once', async () => {
    const before = await provider.getBalance(ADDR1)
    const tx = await wallet.sendTransaction({ to: ADDR1, value: parseEther('1.5') })
    const receipt = await provider.getTransactionReceipt(tx.hash)
    expect(receipt?.status).toBe(1)
    expect(await provider.getBalance(ADDR1)).toBe(before + parseEther('1.5'))
  })

  it('deploys a contract, calls it, queries its events and decodes a revert reason', async () => {
    const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
    const factory = new ContractFactory(abi, bytecode, wallet)
    const counter = (await factory.deploy()) as any
    await counter.waitForDeployment()
    const address = await counter.getAddress()
    expect((await provider.getCode(address)).length).toBeGreaterThan(2)

    await (await counter.increment()).wait()
    await (await counter.add(41n)).wait()
    expect(await counter.get()).toBe(42n)
    expect(await counter.byUser(wallet.address)).toBe(42n)

    const events = await counter.queryFilter(counter.filters.Incremented(wallet.address), 0, 'latest')
    expect(events.map((e: any) => e.args.newCount)).toEqual([1n, 42n])

    await expect(counter.add(5000n)).rejects.toMatchObject({ reason: 'value too large' })
    await expect(counter.add.staticCall(5000n)).rejects.toMatchObject({ reason: 'value too large' })
    await expect(counter.addChecked.staticCall(5000n)).rejects.toMatchObject({
      revert: { name: 'TooBig', args: [5000n] },
    })
    // the node is still serving after reverts
    expect(await counter.get()).toBe(42n)
  })

  it('reads state at a past block', async () => {
    const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
    const counter = (await new ContractFactory(abi, bytecode, wallet).deploy()) as any
    await counter.waitForDeployment()
    await (await counter.add(7n)).wait()
    const at = await provider.getBlockNumber()
    await (await counter.add(3n)).wait()
    expect(await counter.get({ blockTag: at })).toBe(7n)
    expect(await counter.get()).toBe(10n)
  })
})
