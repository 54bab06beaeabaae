import { AbiCoder, getAddress, getCreateAddress, Interface, id, zeroPadValue } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { COUNTER_SOL, compileContract } from '../helpers/solc.ts'

const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
const iface = new Interface(abi)
const coder = AbiCoder.defaultAbiCoder()
const word = (v: bigint | number) => `0x${BigInt(v).toString(16).padStart(64, '0')}`
const pad = (addr: string) => zeroPadValue(addr, 32).toLowerCase()
const INCREMENTED = id('Incremented(address,uint256)')
const TRANSFER = id('Transfer(address,address,uint256)')
const TRANSFER_ADDRESS = `0x${'ee'.repeat(20)}`
const FEE_RECIPIENT = `0x${'fe'.repeat(20)}`
/** Returns NUMBER, TIMESTAMP, COINBASE, BASEFEE as four words. */
const BLOCK_PROBE = '0x4360005242602052416040524860605260806000f3'
/** Returns BALANCE(calldata word 0) and SLOAD(0) as two words. */
const STATE_PROBE = '0x6000353160005260005460205260406000f3'
const PROBE_ADDR = `0x${'c0de'.repeat(10)}`
const RICH_ADDR = `0x${'bb'.repeat(20)}`
const EMPTY_ADDR = `0x${'e1'.repeat(20)}`

describe('eth_simulateV1 (devnet)', () => {
  let devnet: TestDevnet
  let counter: string
  let realIncrementGas: string
  let counterRuntime: string
  let head: { number: string; timestamp: string; hash: string }

  const call = async (method: string, params: unknown[] = []) => {
    const r = await rpc(devnet.url, method, params)
    if (r.error) throw Object.assign(new Error(r.error.message), r.error)
    return r.result
  }
  const send = async (tx: Record<string, unknown>) => {
    const hash = await call('eth_sendTransaction', [{ from: ADDR0, ...tx }])
    return call('eth_getTransactionReceipt', [hash])
  }
  const simulate = (opts: Record<string, unknown>, block = 'latest') => rpc(devnet.url, 'eth_simulateV1', [opts, block])

  beforeAll(async () => {
    devnet = await startTestDevnet()
    const deployed = await send({ data: bytecode })
    counter = deployed.contractAddress
    counterRuntime = await call('eth_getCode', [counter, 'latest'])
    const inc = await send({ to: counter, data: iface.encodeFunctionData('increment') })
    expect(inc.status).toBe('0x1')
    realIncrementGas = inc.gasUsed
    head = await call('eth_getBlockByNumber', ['latest', false])
  }, 180_000)
  afterAll(async () => devnet?.stop())

  it('runs a chain of blocks: block 2 sees the contract block 1 deployed; gas, logs and data match real receipts', async () => {
    const nonce = BigInt(await call('eth_getTransactionCount', [ADDR0, 'latest']))
    const created = getCreateAddress({ from: ADDR0, nonce }).toLowerCase()
    const res = await simulate({
      blockStateCalls: [
        { calls: [{ from: ADDR0, data: bytecode }] },
        {
          calls: [
            { from: ADDR0, to: created, data: iface.encodeFunctionData('increment') },
            { from: ADDR0, to: created, data: iface.encodeFunctionData('add', [5000]) },
          ],
        },
        { calls: [{ from: ADDR0, to: created, data: iface.encodeFunctionData('get') }] },
      ],
    })
    expect(res.error).toBeUndefined()
    const blocks = res.result
    expect(blocks).toHaveLength(3)
    const n0 = BigInt(head.number)
    const t0 = BigInt(head.timestamp)
    expect(blocks.map((b: { number: string }) => BigInt(b.number))).toEqual([n0 + 1n, n0 + 2n, n0 + 3n])
    // geth's default spacing of simulated blocks is 12 s
    expect(blocks.map((b: { timestamp: string }) => BigInt(b.timestamp))).toEqual([t0 + 12n, t0 + 24n, t0 + 36n])
    expect(blocks[0].parentHash).toBe(head.hash)
    expect(blocks[1].parentHash).toBe(blocks[0].hash)
    expect(blocks[2].parentHash).toBe(blocks[1].hash)
    // without validation and without an override the base fee is 0 (geth)
    expect(blocks.map((b: { baseFeePerGas: string }) => b.baseFeePerGas)).toEqual(['0x0', '0x0', '0x0'])

    // block 1: the creation returns the runtime code the real deployment stored
    const [deploy] = blocks[0].calls
    expect(deploy).toMatchObject({ status: '0x1', returnData: counterRuntime, logs: [] })
    expect(blocks[0].transactions).toHaveLength(1)

    // block 2: increment on the contract created in block 1 costs what the real first increment cost
    const [inc, bad] = blocks[1].calls
    expect(inc.status).toBe('0x1')
    expect(inc.gasUsed).toBe(realIncrementGas)
    expect(inc.returnData).toBe('0x')
    expect(inc.logs).toEqual([
      {
        address: created,
        topics: [INCREMENTED, pad(ADDR0)],
        data: word(1),
        blockNumber: blocks[1].number,
        transactionHash: blocks[1].transactions[0],
        transactionIndex: '0x0',
        blockHash: blocks[1].hash,
        blockTimestamp: blocks[1].timestamp,
        logIndex: '0x0',
        removed: false,
      },
    ])
    // a require() revert: status 0, no return data, geth's error with the revert data
    expect(bad.status).toBe('0x0')
    expect(bad.returnData).toBe('0x')
    expect(bad.logs).toEqual([])
    expect(bad.error).toEqual({
      code: 3,
      message: 'execution reverted: value too large',
      data: iface.encodeErrorResult('Error', ['value too large']),
    })
    expect(BigInt(blocks[1].gasUsed)).toBe(BigInt(inc.gasUsed) + BigInt(bad.gasUsed))

    // block 3 reads what block 2 wrote
    const [get] = blocks[2].calls
    expect(get).toMatchObject({ status: '0x1', returnData: word(1), logs: [] })

    // nothing was written: the real chain has neither the block nor the contract
    expect(await call('eth_blockNumber')).toBe(head.number)
    expect(await call('eth_getCode', [created, 'latest'])).toBe('0x')
  })

  it('block overrides (number, time, feeRecipient, baseFeePerGas) are what the EVM sees; gaps are filled', async () => {
    const n0 = BigInt(head.number)
    const t0 = BigInt(head.timestamp)
    const number = n0 + 10n
    const time = t0 + 1000n
    const res = await simulate({
      blockStateCalls: [
        {
          blockOverrides: {
            number: `0x${number.toString(16)}`,
            time: `0x${time.toString(16)}`,
            feeRecipient: FEE_RECIPIENT,
            baseFeePerGas: '0x7',
          },
          stateOverrides: { [PROBE_ADDR]: { code: BLOCK_PROBE } },
          calls: [
            { from: ADDR0, to: PROBE_ADDR, maxFeePerGas: '0x7', maxPriorityFeePerGas: '0x0' },
            // no fee given and no validation: BASEFEE reads 0 (geth lowers it so that fee cap >= base fee)
            { from: ADDR0, to: PROBE_ADDR },
          ],
        },
      ],
    })
    expect(res.error).toBeUndefined()
    const blocks = res.result
    // blocks n0+1 .. n0+9 are empty gap blocks 12 s apart, then the overridden block
    expect(blocks).toHaveLength(10)
    for (let i = 0; i < 9; i++) {
      expect(BigInt(blocks[i].number)).toBe(n0 + 1n + BigInt(i))
      expect(BigInt(blocks[i].timestamp)).toBe(t0 + 12n * BigInt(i + 1))
      expect(blocks[i].calls).toEqual([])
    }
    const b = blocks[9]
    expect(b.number).toBe(`0x${number.toString(16)}`)
    expect(b.timestamp).toBe(`0x${time.toString(16)}`)
    expect(b.miner).toBe(FEE_RECIPIENT)
    expect(b.baseFeePerGas).toBe('0x7')
    expect(b.parentHash).toBe(blocks[8].hash)
    const expected = (baseFee: number) =>
      `0x${[word(number), word(time), pad(FEE_RECIPIENT), word(baseFee)].map((w) => w.slice(2)).join('')}`
    expect(b.calls[0]).toMatchObject({ status: '0x1', returnData: expected(7) })
    expect(b.calls[1]).toMatchObject({ status: '0x1', returnData: expected(0) })
  })

  it('state overrides (balance, code, state, stateDiff) are visible and not persisted', async () => {
    const probe = (addr: string) => ({ from: ADDR0, to: PROBE_ADDR, input: pad(addr) })
    const get = { from: ADDR0, to: counter, input: iface.encodeFunctionData('get') }
    const byUser = { from: ADDR0, to: counter, input: iface.encodeFunctionData('byUser', [ADDR0]) }
    const res = await simulate({
      blockStateCalls: [
        {
          stateOverrides: {
            [PROBE_ADDR]: { code: STATE_PROBE, state: { [word(0)]: word(0x2a) } },
            [RICH_ADDR]: { balance: '0x1234' },
            // stateDiff changes one slot: count = 5, byUser[ADDR0] (a mapping slot) keeps its 1
            [counter]: { stateDiff: { [word(0)]: word(5) } },
          },
          calls: [probe(RICH_ADDR), get, byUser],
        },
        {
          // state replaces the whole storage: count = 9, byUser[ADDR0] is gone
          stateOverrides: { [counter]: { state: { [word(0)]: word(9) } } },
          calls: [get, byUser, probe(RICH_ADDR)],
        },
      ],
    })
    expect(res.error).toBeUndefined()
    const [b1, b2] = res.result
    expect(b1.calls.map((c: { returnData: string }) => c.returnData)).toEqual([
      `0x${word(0x1234).slice(2)}${word(0x2a).slice(2)}`,
      word(5),
      word(1),
    ])
    // block 2 starts from block 1's state: the probe and the balance are still there
    expect(b2.calls.map((c: { returnData: string }) => c.returnData)).toEqual([
      word(9),
      word(0),
      `0x${word(0x1234).slice(2)}${word(0x2a).slice(2)}`,
    ])
    // none of it reached the chain
    expect(await call('eth_getCode', [PROBE_ADDR, 'latest'])).toBe('0x')
    expect(await call('eth_getBalance', [RICH_ADDR, 'latest'])).toBe('0x0')
    expect(await call('eth_getStorageAt', [counter, '0x0', 'latest'])).toBe(word(1))
    expect(await call('eth_call', [get, 'latest'])).toBe(word(1))
    expect(await call('eth_call', [byUser, 'latest'])).toBe(word(1))
  })

  it('traceTransfers: true reports ETH transfers as logs from 0xeeee…eeee; false does not', async () => {
    const to = `0x${'d0'.repeat(20)}`
    const calls = [{ from: ADDR0, to, value: '0x10' }]
    const on = await simulate({ blockStateCalls: [{ calls }], traceTransfers: true })
    const off = await simulate({ blockStateCalls: [{ calls }], traceTransfers: false })
    const b = on.result[0]
    expect(b.calls[0].status).toBe('0x1')
    expect(b.calls[0].gasUsed).toBe('0x5208')
    expect(b.calls[0].logs).toEqual([
      {
        address: TRANSFER_ADDRESS,
        topics: [TRANSFER, pad(ADDR0), pad(to)],
        data: word(0x10),
        blockNumber: b.number,
        transactionHash: b.transactions[0],
        transactionIndex: '0x0',
        blockHash: b.hash,
        blockTimestamp: b.timestamp,
        logIndex: '0x0',
        removed: false,
      },
    ])
    expect(off.result[0].calls[0]).toMatchObject({ status: '0x1', gasUsed: '0x5208', logs: [] })
  })

  it('traceTransfers follows value into nested calls and numbers logs across the block', async () => {
    // forwarder: CALL(gas, calldata[0], callvalue, 0, 0, 0, 0)
    const forwarder = `0x${'f0'.repeat(20)}`
    const dest = `0x${'d2'.repeat(20)}`
    const other = `0x${'d3'.repeat(20)}`
    const res = await simulate({
      traceTransfers: true,
      blockStateCalls: [
        {
          stateOverrides: { [forwarder]: { code: '0x6000600060006000346000355af100' } },
          calls: [
            { from: ADDR0, to: forwarder, value: '0x20', input: pad(dest) },
            { from: ADDR0, to: other, value: '0x5' },
          ],
        },
      ],
    })
    expect(res.error).toBeUndefined()
    const b = res.result[0]
    const brief = (l: { topics: string[]; data: string; logIndex: string; transactionIndex: string }) => [
      l.topics,
      l.data,
      l.logIndex,
      l.transactionIndex,
    ]
    expect(b.calls[0].status).toBe('0x1')
    expect(b.calls[0].logs.map(brief)).toEqual([
      [[TRANSFER, pad(ADDR0), pad(forwarder)], word(0x20), '0x0', '0x0'],
      [[TRANSFER, pad(forwarder), pad(dest)], word(0x20), '0x1', '0x0'],
    ])
    expect(b.calls[1].logs.map(brief)).toEqual([[[TRANSFER, pad(ADDR0), pad(other)], word(5), '0x2', '0x1']])
  })

  it('runs on the state of the requested block', async () => {
    const n0 = BigInt(head.number)
    const get = { from: ADDR0, to: counter, input: iface.encodeFunctionData('get') }
    const at = async (n: bigint) =>
      (await simulate({ blockStateCalls: [{ calls: [get] }] }, `0x${n.toString(16)}`)).result
    // n0 - 2: before the deployment (no code: an empty success); n0 - 1: deployed, count 0; n0: after the increment
    const [before, deployed, now] = [await at(n0 - 2n), await at(n0 - 1n), await at(n0)]
    expect(before[0].calls[0]).toMatchObject({ status: '0x1', returnData: '0x' })
    expect(deployed[0].calls[0]).toMatchObject({ status: '0x1', returnData: word(0) })
    expect(now[0].calls[0]).toMatchObject({ status: '0x1', returnData: word(1) })
    expect(deployed[0].number).toBe(head.number)
    expect(now[0].parentHash).toBe(head.hash)
  })

  const fee = { maxFeePerGas: '0xba43b7400', maxPriorityFeePerGas: '0x1' }
  const transfer = { to: `0x${'d1'.repeat(20)}`, value: '0x1', gas: '0x5208', ...fee }
  const withNonce = (n: bigint) => ({ from: ADDR0, nonce: `0x${n.toString(16)}`, ...transfer })
  const runOne = (validation: boolean, c: Record<string, unknown>) =>
    simulate({ blockStateCalls: [{ calls: [c] }], validation })
  const nonceNow = async () => BigInt(await call('eth_getTransactionCount', [ADDR0, 'latest']))

  it('validation: true refuses a low nonce and missing funds with geth codes; validation: false allows them', async () => {
    const nonce = await nonceNow()
    expect(nonce).toBeGreaterThan(1n)
    const low = await runOne(true, withNonce(nonce - 1n))
    expect(low.error?.code).toBe(-38010)
    const poor = await runOne(true, { from: EMPTY_ADDR, ...transfer })
    expect(poor.error?.code).toBe(-38014)
    // the right nonce passes validation
    const ok = await runOne(true, withNonce(nonce))
    expect(ok.error).toBeUndefined()
    expect(ok.result[0].calls[0]).toMatchObject({ status: '0x1', gasUsed: '0x5208' })

    for (const c of [withNonce(nonce + 5n), withNonce(nonce - 1n)]) {
      const r = await runOne(false, c)
      expect(r.error).toBeUndefined()
      expect(r.result[0].calls[0]).toMatchObject({ status: '0x1', gasUsed: '0x5208' })
    }
    // without validation a fee-less call from an empty account runs (nothing to pay)
    const get = { from: EMPTY_ADDR, to: counter, input: iface.encodeFunctionData('get') }
    const free = await runOne(false, get)
    expect(free.error).toBeUndefined()
    expect(free.result[0].calls[0]).toMatchObject({ status: '0x1', returnData: word(1) })
    // with validation the same call is below the base fee
    expect((await runOne(true, get)).error?.code).toBe(-38012)
  })

  // ethereumjs words every nonce mismatch "the tx doesn't have the correct nonce. account has nonce of: N tx has
  // nonce of: M"; geth tells a nonce above the account's (-38011) from one below it (-38010)
  it('validation: true refuses a nonce above the account nonce with -38011 (nonce too high)', async () => {
    const nonce = await nonceNow()
    const high = await runOne(true, withNonce(nonce + 5n))
    expect(high.error?.code).toBe(-38011)
    expect(high.error?.message).toBe(`err: nonce too high: address ${ADDR0}, tx: ${nonce + 5n} state: ${nonce}`)
  })

  it("nonce and funds errors carry geth's message", async () => {
    const nonce = await nonceNow()
    const low = await runOne(true, withNonce(nonce - 1n))
    expect(low.error?.message).toBe(`err: nonce too low: address ${ADDR0}, tx: ${nonce - 1n} state: ${nonce}`)
    // geth: want = gas * maxFeePerGas + value, have = the balance (0 here)
    const poor = await runOne(true, { from: EMPTY_ADDR, ...transfer })
    const want = BigInt(transfer.gas) * BigInt(fee.maxFeePerGas) + BigInt(transfer.value)
    expect(poor.error?.code).toBe(-38014)
    expect(poor.error?.message).toBe(
      `err: insufficient funds for gas * price + value: address ${getAddress(EMPTY_ADDR)} have 0 want ${want}`,
    )
  })

  it('returnFullTransactions gives transaction objects with the caller as sender', async () => {
    const c = { from: ADDR0, to: counter, input: iface.encodeFunctionData('get'), gas: '0x10000' }
    const hashes = await simulate({ blockStateCalls: [{ calls: [c] }] })
    const full = await simulate({ blockStateCalls: [{ calls: [c] }], returnFullTransactions: true })
    const [h] = hashes.result[0].transactions
    expect(h).toMatch(/^0x[0-9a-f]{64}$/)
    const [tx] = full.result[0].transactions
    expect(tx).toMatchObject({
      hash: h,
      from: ADDR0.toLowerCase(),
      to: counter.toLowerCase(),
      input: iface.encodeFunctionData('get'),
      gas: '0x10000',
      blockHash: full.result[0].hash,
      blockNumber: full.result[0].number,
      transactionIndex: '0x0',
    })
    expect(full.result[0].hash).toBe(hashes.result[0].hash)
  })

  it('refuses out-of-order numbers and timestamps, too many blocks and empty input with geth codes', {
    timeout: 60_000,
  }, async () => {
    const n0 = BigInt(head.number)
    const t0 = BigInt(head.timestamp)
    const hex = (v: bigint) => `0x${v.toString(16)}`
    const order = await simulate({
      blockStateCalls: [{ blockOverrides: { number: hex(n0 + 5n) } }, { blockOverrides: { number: hex(n0 + 3n) } }],
    })
    expect(order.error).toMatchObject({ code: -38020 })
    const same = await simulate({ blockStateCalls: [{ blockOverrides: { number: hex(n0) } }] })
    expect(same.error).toMatchObject({ code: -38020 })
    const time = await simulate({
      blockStateCalls: [{ blockOverrides: { time: hex(t0 + 100n) } }, { blockOverrides: { time: hex(t0 + 50n) } }],
    })
    expect(time.error).toMatchObject({ code: -38021 })
    const tooMany = await simulate({ blockStateCalls: Array.from({ length: 257 }, () => ({})) })
    expect(tooMany.error).toMatchObject({ code: -38026, message: 'too many blocks' })
    const tooFar = await simulate({ blockStateCalls: [{ blockOverrides: { number: hex(n0 + 257n) } }] })
    expect(tooFar.error).toMatchObject({ code: -38026 })
    // 256 is the cap itself and is fine
    const most = await simulate({ blockStateCalls: [{ blockOverrides: { number: hex(n0 + 256n) } }] })
    expect(most.error?.message).toBeUndefined()
    expect(most.result).toHaveLength(256)
    expect((await simulate({ blockStateCalls: [] })).error).toMatchObject({ code: -32602, message: 'empty input' })
  })

  it('decodes a custom-error revert into error.data', async () => {
    const res = await simulate({
      blockStateCalls: [
        { calls: [{ from: ADDR0, to: counter, input: iface.encodeFunctionData('addChecked', [1000]) }] },
      ],
    })
    const [c] = res.result[0].calls
    expect(c.status).toBe('0x0')
    expect(c.error).toEqual({
      code: 3,
      message: 'execution reverted',
      data: iface.encodeErrorResult('TooBig', [1000]),
    })
    expect(coder.decode(['uint256'], `0x${c.error.data.slice(10)}`)[0]).toBe(1000n)
  })
})
