import type { Address } from 'viem'
import { createPublicClient, createWalletClient, defineChain, http, parseAbiItem, webSocket } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { CHAIN_ID, KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { COUNTER_SOL, compileContract } from '../helpers/solc.ts'

describe('viem against a real devnet', () => {
  let devnet: TestDevnet
  let lattice: ReturnType<typeof defineChain>
  const account = privateKeyToAccount(KEY0)

  beforeAll(async () => {
    devnet = await startTestDevnet()
    lattice = defineChain({
      id: CHAIN_ID,
      name: 'Lattice devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [devnet.url], webSocket: [devnet.server.wsUrl] } },
    })
  })
  afterAll(async () => {
    await devnet.stop()
  })

  it('deploys, waits for the receipt, reads logs and watches events over HTTP and WebSocket', async () => {
    const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
    const wallet = createWalletClient({ account, chain: lattice, transport: http(devnet.url) })
    const pub = createPublicClient({ chain: lattice, transport: http(devnet.url), pollingInterval: 50 })

    const hash = await wallet.deployContract({ abi, bytecode } as any)
    const receipt = await pub.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    const address = receipt.contractAddress as Address
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/)

    const seenHttp: bigint[] = []
    const unwatchHttp = pub.watchContractEvent({
      address,
      abi,
      eventName: 'Incremented',
      onLogs: (logs) => {
        for (const l of logs) seenHttp.push((l as any).args.newCount)
      },
    })
    const wsClient = createPublicClient({ chain: lattice, transport: webSocket(devnet.server.wsUrl) })
    const seenWs: bigint[] = []
    const unwatchWs = wsClient.watchContractEvent({
      address,
      abi,
      eventName: 'Incremented',
      onLogs: (logs) => {
        for (const l of logs) seenWs.push((l as any).args.newCount)
      },
    })
    // the watchers install their filter / subscription asynchronously: emit warm-up events until both see one
    for (let i = 0; i < 50 && (seenHttp.length === 0 || seenWs.length === 0); i++) {
      const h = await wallet.writeContract({ address, abi, functionName: 'increment' } as any)
      await pub.waitForTransactionReceipt({ hash: h })
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(seenHttp.length).toBeGreaterThan(0)
    expect(seenWs.length).toBeGreaterThan(0)
    const base = (await pub.readContract({ address, abi, functionName: 'get' })) as bigint
    await new Promise((r) => setTimeout(r, 300))
    seenHttp.length = 0
    seenWs.length = 0

    for (const v of [5n, 6n]) {
      const h = await wallet.writeContract({ address, abi, functionName: 'add', args: [v] } as any)
      await pub.waitForTransactionReceipt({ hash: h })
    }
    expect(await pub.readContract({ address, abi, functionName: 'get' })).toBe(base + 11n)

    const logs = await pub.getLogs({
      address,
      event: parseAbiItem('event Incremented(address indexed by, uint256 newCount)'),
      fromBlock: 0n,
    })
    expect(logs.map((l) => l.args.newCount).slice(-2)).toEqual([base + 5n, base + 11n])
    expect(logs[0].args.by?.toLowerCase()).toBe(account.address.toLowerCase())

    const deadline = Date.now() + 10_000
    while ((seenHttp.length < 2 || seenWs.length < 2) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    unwatchHttp()
    unwatchWs()
    expect(seenHttp).toEqual([base + 5n, base + 11n])
    expect(seenWs).toEqual([base + 5n, base + 11n])
    await wsClient.transport.getRpcClient?.().then((c: any) => c.close())
  })

  it('simulates a reverting write with its reason', async () => {
    const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
    const wallet = createWalletClient({ account, chain: lattice, transport: http(devnet.url) })
    const pub = createPublicClient({ chain: lattice, transport: http(devnet.url) })
    const receipt = await pub.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode } as any) })
    await expect(
      pub.simulateContract({ account, address: receipt.contractAddress!, abi, functionName: 'add', args: [5000n] }),
    ).rejects.toThrow(/value too large/)
  })
})
