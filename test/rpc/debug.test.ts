import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importBlockFile } from '../../src/chain/blockfile.ts'
import { initDatadir, openDatadirChain } from '../../src/chain/datadir.ts'
import type { RunningNode } from '../../src/cli/node.ts'
import { startNode } from '../../src/cli/node.ts'
import { SUITE_DIR } from '../conformance/execution-apis/runner.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { CONFORMANCE_SUITE, describeWith } from '../helpers/requires.ts'

const ADDRESS = /^0x[0-9a-f]{40}$/
const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/
const DATA = /^0x([0-9a-f]{2})*$/
const TYPES = new Set(['CALL', 'STATICCALL', 'DELEGATECALL', 'CALLCODE', 'CREATE', 'CREATE2', 'SELFDESTRUCT'])
const FIELDS = new Set([
  'type',
  'from',
  'to',
  'value',
  'gas',
  'gasUsed',
  'input',
  'output',
  'error',
  'revertReason',
  'calls',
  'logs',
])

/** Check one callTracer frame against geth's CallFrame JSON (field names, encodings, nesting). */
function checkFrame(f: Record<string, unknown>, path = 'frame'): void {
  for (const k of Object.keys(f)) expect(FIELDS.has(k), `${path}: unexpected field ${k}`).toBe(true)
  expect(TYPES.has(f.type as string), `${path}.type ${f.type}`).toBe(true)
  expect(f.from, `${path}.from`).toMatch(ADDRESS)
  if (f.to !== undefined) expect(f.to, `${path}.to`).toMatch(ADDRESS)
  expect(f.gas, `${path}.gas`).toMatch(QUANTITY)
  expect(f.gasUsed, `${path}.gasUsed`).toMatch(QUANTITY)
  expect(f.input, `${path}.input`).toMatch(DATA)
  if (f.output !== undefined) expect(f.output, `${path}.output`).toMatch(DATA)
  if (f.value !== undefined) expect(f.value, `${path}.value`).toMatch(QUANTITY)
  if (f.type === 'STATICCALL') expect(f.value).toBeUndefined()
  if (f.error !== undefined) expect(typeof f.error).toBe('string')
  if (f.calls !== undefined) {
    expect(Array.isArray(f.calls) && (f.calls as unknown[]).length > 0).toBe(true)
    for (const [i, c] of (f.calls as Record<string, unknown>[]).entries()) checkFrame(c, `${path}.calls[${i}]`)
  }
  if (f.logs !== undefined) {
    for (const l of f.logs as Record<string, unknown>[]) {
      expect(Object.keys(l).sort()).toEqual(['address', 'data', 'position', 'topics'])
      expect(l.address).toMatch(ADDRESS)
      expect(l.data).toMatch(DATA)
      expect(l.position).toMatch(QUANTITY)
      for (const t of l.topics as string[]) expect(t).toMatch(/^0x[0-9a-f]{64}$/)
    }
  }
}

describeWith([CONFORMANCE_SUITE], 'callTracer on the execution-apis chain', () => {
  let tmp: string
  let node: RunningNode
  let url: string

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lattice-debug-'))
    await initDatadir({ datadir: tmp, genesisPath: join(SUITE_DIR, 'genesis.json') })
    const chain = await openDatadirChain(tmp)
    await importBlockFile(chain, join(SUITE_DIR, 'chain.rlp'))
    await chain.close()
    node = await startNode({ datadir: tmp, port: 0, mining: { kind: 'off' } })
    url = node.server.url
  }, 120_000)

  afterAll(async () => {
    await node?.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('gives a geth-shaped frame for every transaction, matching the receipts', async () => {
    let traced = 0
    for (let n = 1; n <= 54; n++) {
      const num = `0x${n.toString(16)}`
      const block = (await rpc(url, 'eth_getBlockByNumber', [num, true])).result
      const receipts = (await rpc(url, 'eth_getBlockReceipts', [num])).result
      const res = await rpc(url, 'debug_traceBlockByNumber', [
        num,
        { tracer: 'callTracer', tracerConfig: { withLog: true } },
      ])
      expect(res.error).toBeUndefined()
      expect(res.result).toHaveLength(block.transactions.length)
      for (const [i, entry] of (res.result as { txHash: string; result: Record<string, unknown> }[]).entries()) {
        const tx = block.transactions[i]
        const rcpt = receipts[i]
        expect(Object.keys(entry).sort()).toEqual(['result', 'txHash'])
        expect(entry.txHash).toBe(tx.hash)
        const f = entry.result
        checkFrame(f)
        // the top frame is the transaction itself
        expect(f.type).toBe(tx.to === null ? 'CREATE' : 'CALL')
        expect(f.from).toBe(tx.from)
        expect(f.to).toBe(tx.to ?? rcpt.contractAddress)
        expect(f.gas).toBe(tx.gas)
        expect(f.gasUsed).toBe(rcpt.gasUsed)
        expect(f.value).toBe(tx.value)
        expect(f.input).toBe(tx.input)
        if (rcpt.status === '0x0') expect(f.error).toBeTypeOf('string')
        else expect(f.error).toBeUndefined()
        // logs of a successful top call are the receipt's logs
        const logs = (f.logs ?? []) as { address: string; topics: string[]; data: string }[]
        if (rcpt.status !== '0x0') {
          expect(logs.map((l) => [l.address, l.topics, l.data])).toEqual(
            rcpt.logs.map((l: { address: string; topics: string[]; data: string }) => [l.address, l.topics, l.data]),
          )
        }
        traced++
      }
    }
    expect(traced).toBeGreaterThan(100)
  })

  it('debug_traceTransaction with callTracer equals the block trace entry', async () => {
    const hash = '0xc1d605c6612a5fe84dc95810030bfe5b1d327652b381bc695e28f50d13b2b09e'
    const one = await rpc(url, 'debug_traceTransaction', [hash, { tracer: 'callTracer' }])
    const all = await rpc(url, 'debug_traceBlockByNumber', ['0x1', { tracer: 'callTracer' }])
    expect(one.result).toEqual(all.result[0].result)
    expect(one.result).toMatchObject({ type: 'CREATE', to: '0x9344b07175800259691961298ca11c824e65032d' })
  })

  it('struct logger: the out-of-gas transaction in block 50 is marked failed', async () => {
    const res = await rpc(url, 'debug_traceBlockByNumber', ['0x32'])
    const failed = (res.result as { result: { failed: boolean } }[]).filter((e) => e.result.failed)
    expect(failed.length).toBeGreaterThan(0)
  })

  it('refuses the genesis block and unknown transactions with geth errors', async () => {
    expect((await rpc(url, 'debug_traceBlockByNumber', ['0x0'])).error).toMatchObject({
      code: -32000,
      message: 'genesis is not traceable',
    })
    expect((await rpc(url, 'debug_traceTransaction', [`0x${'00'.repeat(31)}01`])).error).toMatchObject({
      code: -32000,
      message: 'transaction not found',
    })
  })
})

describe('callTracer on nested calls (devnet)', () => {
  let devnet: TestDevnet

  beforeAll(async () => {
    devnet = await startTestDevnet()
  })
  afterAll(async () => devnet?.stop())

  async function deploy(init: string): Promise<string> {
    const h = (await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, data: `0x${init}` }])).result
    return (await rpc(devnet.url, 'eth_getTransactionReceipt', [h])).result.contractAddress
  }

  it('reports STATICCALL, DELEGATECALL and CALL children with outputs and log positions', async () => {
    // callee returns 42
    const callee = await deploy('600a600c600039600a6000f3602a60005260206000f3')
    // caller: STATICCALL, DELEGATECALL, CALL to the address in calldata, then LOG0
    const runtime =
      '60206000600060006000355afa50' +
      '60206000600060006000355af450' +
      '602060006000600060006000355af150' +
      '60006000a000'
    const caller = await deploy(`6032600c60003960326000f3${runtime}`)
    const data = `0x${callee.slice(2).padStart(64, '0')}`
    const h = (await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: caller, data, gas: '0x30000' }])).result
    const trace = (
      await rpc(devnet.url, 'debug_traceTransaction', [h, { tracer: 'callTracer', tracerConfig: { withLog: true } }])
    ).result
    checkFrame(trace)
    expect(trace.type).toBe('CALL')
    expect(trace.to).toBe(caller)
    const calls = trace.calls as Record<string, unknown>[]
    expect(calls.map((c) => c.type)).toEqual(['STATICCALL', 'DELEGATECALL', 'CALL'])
    const word42 = `0x${'2a'.padStart(64, '0')}`
    for (const c of calls) {
      expect(c.from).toBe(caller)
      expect(c.to).toBe(callee)
      expect(c.output).toBe(word42)
    }
    expect(calls[0].value).toBeUndefined()
    expect(calls[2].value).toBe('0x0')
    expect(trace.logs).toEqual([{ address: caller, topics: [], data: '0x', position: '0x3' }])

    const onlyTop = (
      await rpc(devnet.url, 'debug_traceTransaction', [
        h,
        { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } },
      ])
    ).result
    expect(onlyTop.calls).toBeUndefined()

    // the struct logger sees depth 2 for the callee's steps
    const structLog = (await rpc(devnet.url, 'debug_traceTransaction', [h])).result
    expect(structLog.failed).toBe(false)
    expect(structLog.structLogs.some((s: { depth: number }) => s.depth === 2)).toBe(true)
    expect(structLog.structLogs[0]).toMatchObject({ pc: 0, op: 'PUSH1', depth: 1, stack: [] })
  })
})
