import { Interface, keccak256, zeroPadValue } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { COUNTER_SOL, compileContract } from '../helpers/solc.ts'

interface Step {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  stack?: string[]
  memory?: string[]
  storage?: Record<string, string>
  returnData?: string
  refund?: number
}
interface StructTrace {
  gas: number
  failed: boolean
  returnValue: string
  structLogs: Step[]
}

const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
const iface = new Interface(abi)
const word = (v: bigint | number) => `0x${BigInt(v).toString(16).padStart(64, '0')}`
const TX_GAS = 200_000

/** Intrinsic gas of a call (EIP-2028 calldata pricing; no access list). */
function intrinsic(data: string): number {
  const bytes = Buffer.from(data.slice(2), 'hex')
  return 21000 + bytes.reduce((g, b) => g + (b === 0 ? 4 : 16), 0)
}

describe('struct logger: debug_traceTransaction / debug_traceBlockBy* (devnet)', () => {
  let devnet: TestDevnet
  let counter: string
  let incHash: string
  let incReceipt: { gasUsed: string; status: string; blockNumber: string; blockHash: string }

  const call = async (method: string, params: unknown[] = []) => {
    const r = await rpc(devnet.url, method, params)
    if (r.error) throw Object.assign(new Error(r.error.message), r.error)
    return r.result
  }
  const send = async (tx: Record<string, unknown>) => call('eth_sendTransaction', [{ from: ADDR0, ...tx }])
  const receipt = (h: string) => call('eth_getTransactionReceipt', [h])
  const trace = async (h: string, cfg?: Record<string, unknown>): Promise<StructTrace> =>
    call('debug_traceTransaction', cfg ? [h, cfg] : [h])

  beforeAll(async () => {
    devnet = await startTestDevnet()
    counter = (await receipt(await send({ data: bytecode }))).contractAddress
    // the first increment makes both slots non-zero; the traced one then changes 1 -> 2 (no refunds)
    await send({ to: counter, data: iface.encodeFunctionData('increment') })
    incHash = await send({ to: counter, data: iface.encodeFunctionData('increment'), gas: `0x${TX_GAS.toString(16)}` })
    incReceipt = await receipt(incHash)
    expect(incReceipt.status).toBe('0x1')
  }, 180_000)
  afterAll(async () => devnet?.stop())

  it('Counter.increment: ops, gas accounting, storage map and result', async () => {
    const t = await trace(incHash)
    const logs = t.structLogs
    expect(t.failed).toBe(false)
    expect(t.returnValue).toBe('0x')
    expect(t.gas).toBe(Number(incReceipt.gasUsed))
    // the first op runs with the transaction's gas less the intrinsic gas
    const data = iface.encodeFunctionData('increment')
    expect(logs[0]).toMatchObject({ pc: 0, op: 'PUSH1', depth: 1, gas: TX_GAS - intrinsic(data), gasCost: 3 })
    expect(logs[0].stack).toEqual([])
    expect(logs.at(-1)?.op).toBe('STOP')
    expect(logs.every((s) => s.depth === 1)).toBe(true)
    // each step's gas is the previous step's less its cost (no calls here)
    for (let i = 1; i < logs.length; i++) {
      expect(logs[i].gas, `step ${i} ${logs[i - 1].op}`).toBe(logs[i - 1].gas - logs[i - 1].gasCost)
    }
    // and what the steps spent plus the intrinsic gas is what the receipt charged (no refund: 1 -> 2 writes)
    const spent = logs[0].gas - (logs.at(-1)!.gas - logs.at(-1)!.gasCost)
    expect(intrinsic(data) + spent).toBe(Number(incReceipt.gasUsed))

    // storage: count (slot 0) and byUser[ADDR0] (keccak(addr . 1)) go 1 -> 2
    const mapSlot = keccak256(`0x${zeroPadValue(ADDR0, 32).slice(2)}${word(1).slice(2)}`)
    const stores = logs.filter((s) => s.op === 'SSTORE')
    const loads = logs.filter((s) => s.op === 'SLOAD')
    expect(stores).toHaveLength(2)
    expect(loads.length).toBeGreaterThanOrEqual(2)
    // an SLOAD records what it read (1 before the slot's SSTORE, 2 after), an SSTORE what it writes (2)
    const written = new Set<string>()
    for (const s of logs.filter((x) => x.op === 'SLOAD' || x.op === 'SSTORE')) {
      const key = word(BigInt(s.stack!.at(-1)!))
      expect([word(0), mapSlot]).toContain(key)
      if (s.op === 'SSTORE') {
        expect(word(BigInt(s.stack!.at(-2)!))).toBe(word(2))
        written.add(key)
      }
      expect(s.storage?.[key]).toBe(word(written.has(key) ? 2 : 1))
    }
    expect(written).toEqual(new Set([word(0), mapSlot]))
    expect(stores.at(-1)!.storage).toEqual({ [word(0)]: word(2), [mapSlot]: word(2) })
    // only SLOAD/SSTORE steps carry a storage map
    expect(logs.filter((s) => s.storage).map((s) => s.op)).toEqual(
      logs.filter((s) => s.op === 'SLOAD' || s.op === 'SSTORE').map((s) => s.op),
    )
    // the event: LOG2 with Incremented's topic on the stack
    const log2 = logs.filter((s) => s.op === 'LOG2')
    expect(log2).toHaveLength(1)
    expect(log2[0].stack!.at(-3)).toBe(iface.getEvent('Incremented')!.topicHash)
    // without enableMemory/enableReturnData there is neither
    expect(logs.some((s) => s.memory !== undefined || s.returnData !== undefined)).toBe(false)
  })

  it('disableStack, disableStorage and enableMemory change only what they name', async () => {
    const full = await trace(incHash)
    const noStack = await trace(incHash, { disableStack: true })
    const noStorage = await trace(incHash, { disableStorage: true })
    const mem = await trace(incHash, { enableMemory: true })
    const shape = (t: StructTrace) => t.structLogs.map((s) => [s.pc, s.op, s.gas, s.gasCost, s.depth])
    for (const t of [noStack, noStorage, mem]) {
      expect(shape(t)).toEqual(shape(full))
      expect(t.gas).toBe(full.gas)
    }
    expect(noStack.structLogs.some((s) => 'stack' in s)).toBe(false)
    expect(noStack.structLogs.filter((s) => s.storage).length).toBe(full.structLogs.filter((s) => s.storage).length)
    expect(noStorage.structLogs.some((s) => 'storage' in s)).toBe(false)
    expect(noStorage.structLogs.map((s) => s.stack)).toEqual(full.structLogs.map((s) => s.stack))

    // solc starts with `mstore(0x40, 0x80)`: the step after that MSTORE sees three words, the last 0x80
    const m = mem.structLogs
    expect(m[0].memory).toBeUndefined()
    const i = m.findIndex((s) => s.op === 'MSTORE')
    expect(m[i].stack!.slice(-2)).toEqual(['0x80', '0x40'])
    expect(m[i].memory).toBeUndefined()
    expect(m[i + 1].memory).toEqual([word(0), word(0), word(0x80)])
    expect(mem.structLogs.map((s) => s.stack)).toEqual(full.structLogs.map((s) => s.stack))
  })

  it('a reverted transaction: failed, the revert data as returnValue, REVERT last', async () => {
    const h = await send({ to: counter, data: iface.encodeFunctionData('add', [5000]), gas: '0x30000' })
    const r = await receipt(h)
    expect(r.status).toBe('0x0')
    const t = await trace(h)
    expect(t.failed).toBe(true)
    expect(t.returnValue).toBe(iface.encodeErrorResult('Error', ['value too large']))
    expect(t.gas).toBe(Number(r.gasUsed))
    expect(t.structLogs.at(-1)?.op).toBe('REVERT')
    expect(t.structLogs.some((s) => s.op === 'SSTORE')).toBe(false)
  })

  it('enableReturnData shows the last call’s return data in the caller’s later steps', async () => {
    const deploy = async (init: string) => (await receipt(await send({ data: `0x${init}` }))).contractAddress
    // callee returns 42; caller STATICCALLs the address in calldata and stops
    const callee = await deploy('600a600c600039600a6000f3602a60005260206000f3')
    const caller = await deploy('600f600c600039600f6000f360206000600060006000355afa5000')
    const h = await send({ to: caller, data: word(BigInt(callee)), gas: '0x30000' })
    const off = await trace(h)
    const on = await trace(h, { enableReturnData: true })
    expect(off.structLogs.some((s) => 'returnData' in s)).toBe(false)
    const steps = on.structLogs
    const call = steps.findIndex((s) => s.op === 'STATICCALL')
    expect(steps.slice(0, call + 1).some((s) => 'returnData' in s)).toBe(false)
    // the callee runs at depth 2; back at depth 1 the return data buffer is the callee's word
    expect(steps[call + 1].depth).toBe(2)
    const after = steps.slice(call + 1).filter((s) => s.depth === 1)
    expect(after.map((s) => s.op)).toEqual(['POP', 'STOP'])
    for (const s of after) expect(s.returnData).toBe(word(42))
    // the STATICCALL pushed 1 (success)
    expect(after[0].stack!.at(-1)).toBe('0x1')
  })

  /** Steps of a caller that STATICCALLs a callee (returning 42) twice, traced with enableReturnData. */
  let twoCalls: Step[]

  it('enableReturnData across two calls: the caller sees each call’s return data', async () => {
    const deploy = async (init: string) => (await receipt(await send({ data: `0x${init}` }))).contractAddress
    const callee = await deploy('600a600c600039600a6000f3602a60005260206000f3')
    const staticcall = '60206000600060006000355afa50'
    const runtime = `${staticcall}${staticcall}00`
    const n = (runtime.length / 2).toString(16).padStart(2, '0')
    const caller = await deploy(`60${n}600c60003960${n}6000f3${runtime}`)
    const h = await send({ to: caller, data: word(BigInt(callee)), gas: '0x30000' })
    twoCalls = (await trace(h, { enableReturnData: true })).structLogs
    const calls = twoCalls.flatMap((s, i) => (s.op === 'STATICCALL' ? [i] : []))
    expect(calls).toHaveLength(2)
    const inner = twoCalls.slice(calls[1] + 1).filter((s) => s.depth === 2)
    expect(inner.map((s) => s.op)).toEqual(['PUSH1', 'PUSH1', 'MSTORE', 'PUSH1', 'PUSH1', 'RETURN'])
    // the caller's steps between the calls and after the second have the callee's word
    const callerAfter = twoCalls.slice(calls[0] + 1).filter((s) => s.depth === 1)
    expect(callerAfter.length).toBe(twoCalls.length - calls[0] - 1 - 12)
    for (const s of callerAfter) expect(s.returnData).toBe(word(42))
  })

  // geth logs scope.ReturnData(), the current frame's buffer: empty in a frame that has made no call yet, so the
  // second callee's steps do not show the first call's return data
  it('enableReturnData: a new frame starts with an empty return data buffer', () => {
    const second = twoCalls.filter((s) => s.op === 'STATICCALL')[1]
    const inner = twoCalls.slice(twoCalls.indexOf(second) + 1).filter((s) => s.depth === 2)
    expect(inner).toHaveLength(6)
    for (const s of inner) expect(s.returnData).toBeUndefined()
  })

  it('enableReturnData: a successful CREATE leaves the buffer empty (the new code is not return data)', async () => {
    // the caller CREATEs a child whose init code returns the 1-byte runtime 0x2a, then POPs and STOPs
    const runtime = '69602a60005360016000f3600052600a60166000f05000'
    const n = (runtime.length / 2).toString(16).padStart(2, '0')
    const caller = (await receipt(await send({ data: `0x60${n}600c60003960${n}6000f3${runtime}` }))).contractAddress
    const h = await send({ to: caller, gas: '0x30000' })
    expect((await receipt(h)).status).toBe('0x1')
    const steps = (await trace(h, { enableReturnData: true })).structLogs
    const create = steps.findIndex((s) => s.op === 'CREATE')
    expect(steps[create + 1].depth).toBe(2)
    const after = steps.slice(create + 1).filter((s) => s.depth === 1)
    expect(after.map((s) => s.op)).toEqual(['POP', 'STOP'])
    for (const s of after) expect(s.returnData).toBeUndefined()
  })

  let oog: StructTrace

  it('an out-of-gas transaction: failed, all its gas, no return value, stopped at the SSTORE', async () => {
    const h = await send({ to: counter, data: iface.encodeFunctionData('increment'), gas: '0x6000' })
    const r = await receipt(h)
    expect(r.status).toBe('0x0')
    expect(r.gasUsed).toBe('0x6000')
    oog = await trace(h)
    expect(oog.failed).toBe(true)
    expect(oog.gas).toBe(0x6000)
    expect(oog.returnValue).toBe('0x')
    const last = oog.structLogs.at(-1)!
    // EIP-2200: an SSTORE with 2300 gas or less left fails
    expect(last.op).toBe('SSTORE')
    expect(last.gas).toBeLessThanOrEqual(2300)
  })

  // geth logs the step that fails with its error ("out of gas: not enough gas for reentrancy sentry" for this SSTORE)
  it('an out-of-gas transaction: the failing step carries the error', () => {
    const last = oog.structLogs.at(-1) as Step & { error?: string }
    expect(last.op).toBe('SSTORE')
    expect(last.error).toBe('out of gas: not enough gas for reentrancy sentry')
    // only the failing step
    expect(oog.structLogs.filter((s) => 'error' in s)).toHaveLength(1)
  })

  it('debug_traceBlockByNumber/ByHash give one entry per transaction, in order, with its hash', async () => {
    await call('evm_setAutomine', [false])
    let hashes: string[]
    try {
      hashes = [
        await send({ to: counter, data: iface.encodeFunctionData('increment'), gas: '0x30000' }),
        await send({ to: counter, data: iface.encodeFunctionData('add', [5000]), gas: '0x30000' }),
        await send({ to: ADDR1, value: '0x1' }),
      ]
      await call('evm_mine')
    } finally {
      await call('evm_setAutomine', [true])
    }
    const receipts = await Promise.all(hashes.map(receipt))
    const block = await call('eth_getBlockByNumber', [receipts[0].blockNumber, false])
    expect(block.transactions).toEqual(hashes)
    const byNumber = (await call('debug_traceBlockByNumber', [block.number])) as {
      txHash: string
      result: StructTrace
    }[]
    expect(byNumber.map((e) => e.txHash)).toEqual(hashes)
    expect(byNumber.map((e) => Object.keys(e).sort())).toEqual(hashes.map(() => ['result', 'txHash']))
    expect(byNumber.map((e) => e.result.failed)).toEqual([false, true, false])
    expect(byNumber.map((e) => e.result.gas)).toEqual(receipts.map((r) => Number(r.gasUsed)))
    // a plain transfer runs no code
    expect(byNumber[2].result.structLogs).toEqual([])
    expect(byNumber[2].result.gas).toBe(21000)
    // each entry is what tracing the one transaction gives
    expect(byNumber[0].result).toEqual(await trace(hashes[0]))
    expect(byNumber[1].result).toEqual(await trace(hashes[1]))
    expect(await call('debug_traceBlockByHash', [block.hash])).toEqual(byNumber)
    const noStack = await call('debug_traceBlockByNumber', [block.number, { disableStack: true }])
    expect(noStack.some((e: { result: StructTrace }) => e.result.structLogs.some((s) => 'stack' in s))).toBe(false)
  })

  it('refuses a trace over the 64 MiB cap with the documented error; the same transaction traces without memory', async () => {
    // expand memory to ~196 KiB (MSTORE at 0x30000), then run 400 cheap steps: with enableMemory every step would
    // copy ~6,100 words (~420 KB of JSON), over 64 MiB after ~160 steps
    const runtime = `60006203000052${'600050'.repeat(200)}00`
    const len = runtime.length / 2
    const hexLen = len.toString(16).padStart(4, '0')
    const init = `61${hexLen}600e60003961${hexLen}6000f3`
    const big = (await receipt(await send({ data: `0x${init}${runtime}` }))).contractAddress
    expect(await call('eth_getCode', [big, 'latest'])).toBe(`0x${runtime}`)
    const h = await send({ to: big, gas: '0x100000' })
    expect((await receipt(h)).status).toBe('0x1')
    const over = await rpc(devnet.url, 'debug_traceTransaction', [h, { enableMemory: true }])
    expect(over.error?.code).toBe(-32000)
    expect(over.error?.message).toMatch(/^the trace is over the 67108864-byte limit of one trace request: /)
    // (the refusal costs ~20 s of CPU here: the first 64 MiB of memory words are converted before the cap is hit)
    const ok = await trace(h)
    expect(ok.failed).toBe(false)
    expect(ok.structLogs).toHaveLength(3 + 400 + 1)
    expect(ok.structLogs[3]).toMatchObject({ op: 'PUSH1', stack: [] })
  })
})
