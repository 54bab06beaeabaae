import { Interface } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { COUNTER_SOL, compileContract } from '../helpers/solc.ts'

describe('JSON-RPC methods', () => {
  let devnet: TestDevnet
  let counter: string
  const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
  const iface = new Interface(abi)
  const call = async (method: string, params: unknown[] = []) => {
    const r = await rpc(devnet.url, method, params)
    if (r.error) throw Object.assign(new Error(r.error.message), r.error)
    return r.result
  }
  const send = async (to: string | undefined, data: string, value = '0x0') => {
    const hash = await call('eth_sendTransaction', [{ from: ADDR0, ...(to ? { to } : {}), data, value }])
    return call('eth_getTransactionReceipt', [hash])
  }

  beforeAll(async () => {
    devnet = await startTestDevnet()
    counter = (await send(undefined, bytecode)).contractAddress
  })
  afterAll(async () => {
    await devnet.stop()
  })

  it('answers the identity methods', async () => {
    // a devnet speaks anvil's development API (docs/hardhat.md): anvil/… (compatible; Lattice/v…)
    expect(await call('web3_clientVersion')).toMatch(/^anvil\/v[\d.]+ \(compatible; Lattice\/v/)
    expect(await call('net_version')).toBe('41232')
    expect(await call('net_listening')).toBe(true)
    expect(await call('eth_chainId')).toBe('0xa110')
    expect(await call('eth_syncing')).toBe(false)
    expect((await call('eth_accounts'))[0].toLowerCase()).toBe(ADDR0.toLowerCase())
    expect(BigInt(await call('eth_gasPrice'))).toBeGreaterThan(BigInt(await call('eth_maxPriorityFeePerGas')))
  })

  it('serves blocks, transactions and receipts by every index', async () => {
    const r = await send(counter, iface.encodeFunctionData('add', [3]))
    const n = r.blockNumber
    const byNum = await call('eth_getBlockByNumber', [n, true])
    const byHash = await call('eth_getBlockByHash', [r.blockHash, true])
    expect(byHash).toEqual(byNum)
    expect(byNum.transactions[0].hash).toBe(r.transactionHash)
    expect(await call('eth_getBlockTransactionCountByHash', [r.blockHash])).toBe('0x1')
    expect(await call('eth_getBlockTransactionCountByNumber', [n])).toBe('0x1')
    expect((await call('eth_getTransactionByBlockHashAndIndex', [r.blockHash, '0x0'])).hash).toBe(r.transactionHash)
    expect((await call('eth_getTransactionByBlockNumberAndIndex', [n, '0x0'])).hash).toBe(r.transactionHash)
    expect(await call('eth_getTransactionByBlockNumberAndIndex', [n, '0x5'])).toBeNull()
    const tx = await call('eth_getTransactionByHash', [r.transactionHash])
    expect(tx).toMatchObject({ blockNumber: n, from: ADDR0.toLowerCase(), to: counter.toLowerCase(), type: '0x2' })
    expect(await call('eth_getBlockReceipts', [n])).toEqual([r])
    expect(r.logs[0]).toMatchObject({ address: counter.toLowerCase(), logIndex: '0x0', blockHash: r.blockHash })
    expect(await call('eth_getBlockByNumber', ['0xffffff', false])).toBeNull()
    expect(await call('eth_getTransactionReceipt', [`0x${'11'.repeat(32)}`])).toBeNull()
  })

  it('reads storage and code, now and at past blocks', async () => {
    const before = await call('eth_blockNumber')
    const slot0 = await call('eth_getStorageAt', [counter, '0x0', 'latest'])
    await send(counter, iface.encodeFunctionData('add', [10]))
    const after = await call('eth_getStorageAt', [counter, '0x0', 'latest'])
    expect(BigInt(after) - BigInt(slot0)).toBe(10n)
    expect(await call('eth_getStorageAt', [counter, '0x0', before])).toBe(slot0)
    expect(await call('eth_getCode', [counter, '0x0'])).toBe('0x')
    expect((await call('eth_getCode', [counter, 'latest'])).length).toBeGreaterThan(100)
    expect(await call('eth_getStorageAt', [counter, '0x0', { blockNumber: before }])).toBe(slot0)
  })

  it('eth_call with block numbers and state overrides', async () => {
    const data = iface.encodeFunctionData('get')
    const now = BigInt(await call('eth_call', [{ to: counter, data }, 'latest']))
    expect(BigInt(await call('eth_call', [{ to: counter, data }, '0x1']))).toBe(0n)
    const overridden = await call('eth_call', [
      { to: counter, data },
      'latest',
      { [counter]: { stateDiff: { [`0x${'00'.repeat(32)}`]: `0x${'00'.repeat(31)}63` } } },
    ])
    expect(BigInt(overridden)).toBe(99n)
    // the override did not stick
    expect(BigInt(await call('eth_call', [{ to: counter, data }, 'latest']))).toBe(now)
    // balance override is visible to BALANCE
    // init code: PUSH20 ADDR1 BALANCE PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN (a call without `to` runs it)
    const balanceOf = `0x73${ADDR1.slice(2).toLowerCase()}3160005260206000f3`
    const bal = await call('eth_call', [{ data: balanceOf }, 'latest', { [ADDR1]: { balance: '0x1234' } }])
    expect(BigInt(bal)).toBe(0x1234n)
    // without the override BALANCE sees the real balance
    expect(BigInt(await call('eth_call', [{ data: balanceOf }, 'latest']))).toBe(
      BigInt(await call('eth_getBalance', [ADDR1, 'latest'])),
    )
  })

  it('reverts come back as code 3 with the revert data', async () => {
    const r = await rpc(devnet.url, 'eth_call', [{ to: counter, data: iface.encodeFunctionData('add', [5000]) }])
    expect(r.error.code).toBe(3)
    expect(r.error.message).toBe('execution reverted: value too large')
    expect(r.error.data).toBe(new Interface(['error Error(string)']).encodeErrorResult('Error', ['value too large']))
    const e = await rpc(devnet.url, 'eth_estimateGas', [
      { from: ADDR0, to: counter, data: iface.encodeFunctionData('addChecked', [5000]) },
    ])
    expect(e.error.code).toBe(3)
    expect(iface.parseError(e.error.data)?.name).toBe('TooBig')
  })

  it('eth_estimateGas is enough for the transaction to succeed, and not far over', async () => {
    const data = iface.encodeFunctionData('increment')
    const est = BigInt(await call('eth_estimateGas', [{ from: ADDR1, to: counter, data }]))
    const hash = await call('eth_sendTransaction', [{ from: ADDR1, to: counter, data, gas: `0x${est.toString(16)}` }])
    const r = await call('eth_getTransactionReceipt', [hash])
    expect(r.status).toBe('0x1')
    expect(est).toBeLessThan((BigInt(r.gasUsed) * 110n) / 100n)
  })

  it('eth_createAccessList lists the touched slots', async () => {
    const res = await call('eth_createAccessList', [
      { from: ADDR0, to: counter, data: iface.encodeFunctionData('increment') },
    ])
    expect(res.accessList).toHaveLength(1)
    expect(res.accessList[0].address.toLowerCase()).toBe(counter.toLowerCase())
    expect(res.accessList[0].storageKeys.length).toBeGreaterThanOrEqual(2)
    expect(BigInt(res.gasUsed)).toBeGreaterThan(21000n)
  })

  it('eth_feeHistory reports base fees, ratios and rewards', async () => {
    const h = await call('eth_feeHistory', ['0x3', 'latest', [25, 75]])
    expect(h.baseFeePerGas).toHaveLength(4)
    expect(h.gasUsedRatio).toHaveLength(3)
    expect(h.reward).toHaveLength(3)
    expect(h.reward[2]).toHaveLength(2)
    expect(BigInt(h.oldestBlock)).toBe(BigInt(await call('eth_blockNumber')) - 2n)
  })

  it('log filters, block filters and eth_getLogs agree', async () => {
    const logFilter = await call('eth_newFilter', [{ address: counter }])
    const blockFilter = await call('eth_newBlockFilter')
    const r = await send(counter, iface.encodeFunctionData('add', [1]))
    const changes = await call('eth_getFilterChanges', [logFilter])
    expect(changes.map((l: any) => l.transactionHash)).toEqual([r.transactionHash])
    expect(await call('eth_getFilterChanges', [logFilter])).toEqual([])
    expect(await call('eth_getFilterChanges', [blockFilter])).toEqual([r.blockHash])
    const all = await call('eth_getLogs', [{ address: counter, fromBlock: '0x0', toBlock: 'latest' }])
    const topic = iface.getEvent('Incremented')!.topicHash
    const byTopic = await call('eth_getLogs', [
      { fromBlock: '0x0', topics: [topic, `0x000000000000000000000000${ADDR0.slice(2).toLowerCase()}`] },
    ])
    const mine = all.filter((l: any) => l.topics[1] === `0x000000000000000000000000${ADDR0.slice(2).toLowerCase()}`)
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.length).toBeLessThan(all.length)
    expect(byTopic).toEqual(mine)
    expect(await call('eth_getLogs', [{ blockHash: r.blockHash }])).toEqual(changes)
    expect(await call('eth_uninstallFilter', [logFilter])).toBe(true)
    expect(await call('eth_uninstallFilter', [logFilter])).toBe(false)
    const gone = await rpc(devnet.url, 'eth_getFilterChanges', [logFilter])
    expect(gone.error.message).toMatch(/filter not found/)
  })

  it('evm_snapshot / evm_revert roll the chain back', async () => {
    const id = await call('evm_snapshot')
    const head = await call('eth_blockNumber')
    const bal = await call('eth_getBalance', [ADDR1, 'latest'])
    const r = await send(ADDR1, '0x', '0x1000')
    expect(await call('eth_getBalance', [ADDR1, 'latest'])).not.toBe(bal)
    expect(await call('evm_revert', [id])).toBe(true)
    expect(await call('eth_blockNumber')).toBe(head)
    expect(await call('eth_getBalance', [ADDR1, 'latest'])).toBe(bal)
    expect(await call('eth_getTransactionReceipt', [r.transactionHash])).toBeNull()
    expect(await call('evm_revert', [id])).toBe(false)
    // the chain goes on from the restored head
    const again = await send(ADDR1, '0x', '0x1')
    expect(again.blockNumber).toBe(`0x${(BigInt(head) + 1n).toString(16)}`)
  })

  it('evm_increaseTime, evm_setNextBlockTimestamp and evm_mine move block time', async () => {
    const t0 = BigInt((await call('eth_getBlockByNumber', ['latest', false])).timestamp)
    await call('evm_setNextBlockTimestamp', [`0x${(t0 + 1000n).toString(16)}`])
    await call('evm_mine')
    const t1 = BigInt((await call('eth_getBlockByNumber', ['latest', false])).timestamp)
    expect(t1).toBe(t0 + 1000n)
    await call('evm_increaseTime', [3600])
    await call('evm_mine')
    const t2 = BigInt((await call('eth_getBlockByNumber', ['latest', false])).timestamp)
    expect(t2).toBeGreaterThanOrEqual(t1 + 3600n)
    const bad = await rpc(devnet.url, 'evm_setNextBlockTimestamp', [Number(t0)])
    expect(bad.error.message).toMatch(/not after/)
    const n = BigInt(await call('eth_blockNumber'))
    await call('evm_mine', [{ blocks: 3 }])
    expect(BigInt(await call('eth_blockNumber'))).toBe(n + 3n)
  })

  it('txpool_status and txpool_content show pending and queued transactions', async () => {
    await call('evm_setAutomine', [false])
    try {
      const nonce = BigInt(await call('eth_getTransactionCount', [ADDR1, 'latest']))
      await call('eth_sendTransaction', [{ from: ADDR1, to: ADDR0, value: '0x1' }])
      await call('eth_sendTransaction', [
        { from: ADDR1, to: ADDR0, value: '0x1', nonce: `0x${(nonce + 5n).toString(16)}` },
      ])
      expect(await call('txpool_status')).toEqual({ pending: '0x1', queued: '0x1' })
      const content = await call('txpool_content')
      // geth keys txpool_content by checksummed address
      const sender = ADDR1
      expect(Object.keys(content.pending[sender])).toEqual([nonce.toString()])
      expect(Object.keys(content.queued[sender])).toEqual([(nonce + 5n).toString()])
      expect(BigInt(await call('eth_getTransactionCount', [ADDR1, 'pending']))).toBe(nonce + 1n)
      await call('evm_mine')
      expect(await call('txpool_status')).toEqual({ pending: '0x0', queued: '0x1' })
    } finally {
      await call('evm_setAutomine', [true])
    }
  })

  it('eth_subscribe newHeads and logs over WebSocket', async () => {
    const ws = new WebSocket(devnet.server.wsUrl)
    await new Promise((r) => ws.once('open', r))
    const messages: any[] = []
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'eth_subscribe', params: ['logs', { address: counter }] }))
    const wait = async (pred: () => boolean) => {
      const deadline = Date.now() + 5000
      while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    }
    await wait(() => messages.length >= 2)
    const headsId = messages.find((m) => m.id === 1).result
    const logsId = messages.find((m) => m.id === 2).result
    const r = await send(counter, iface.encodeFunctionData('increment'))
    await wait(() => messages.filter((m) => m.method === 'eth_subscription').length >= 2)
    const head = messages.find((m) => m.params?.subscription === headsId)
    const log = messages.find((m) => m.params?.subscription === logsId)
    expect(head.params.result.hash).toBe(r.blockHash)
    expect(head.params.result.number).toBe(r.blockNumber)
    expect(log.params.result.transactionHash).toBe(r.transactionHash)
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'eth_unsubscribe', params: [headsId] }))
    await wait(() => messages.some((m) => m.id === 3))
    expect(messages.find((m) => m.id === 3).result).toBe(true)
    ws.close()
    // over HTTP, subscriptions are refused with a clear reason
    const http = await rpc(devnet.url, 'eth_subscribe', ['newHeads'])
    expect(http.error.message).toMatch(/WebSocket/)
  })
})
