// debug_traceCall (struct logger, callTracer, state overrides), eth_getAccount, eth_getUncleBy*,
// eth_sendRawTransactionSync against a devnet, with anvil's answers for the same requests where they are comparable.
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INFERENCE_PRECOMPILE_ADDRESS } from '../../src/precompiles/addresses.ts'
import type { RunningAnvil } from '../helpers/anvil.ts'
import { startAnvil } from '../helpers/anvil.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, CHAIN_ID, KEY1, rpc, startTestDevnet } from '../helpers/devnet.ts'

/** Runtime code: CALL to 0x..bb with no value, then return slot 0. */
const CALLER = '0x6000600060006000600060bb5af1506000546000526020 6000f3'.replace(/ /g, '')
const TARGET = '0x00000000000000000000000000000000000000aa'

async function ok(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await rpc(url, method, params)
  if (r.error) throw new Error(`${method} on ${url}: ${JSON.stringify(r.error)}`)
  return r.result
}

describe('debug_traceCall, eth_getAccount, eth_getUncleBy*, eth_sendRawTransactionSync', () => {
  let devnet: TestDevnet
  let anvil: RunningAnvil

  beforeAll(async () => {
    ;[devnet, anvil] = await Promise.all([startTestDevnet(), startAnvil(['--chain-id', String(CHAIN_ID)])])
    for (const url of [devnet.url, anvil.url]) {
      await ok(url, 'anvil_setCode', [TARGET, CALLER])
      await ok(url, 'anvil_setStorageAt', [TARGET, '0x0', `0x${'00'.repeat(31)}2a`])
    }
  }, 120_000)
  afterAll(async () => {
    anvil?.stop()
    await devnet?.stop()
  })

  it('debug_traceCall with the callTracer gives the frames anvil gives', async () => {
    const call = { from: ADDR0, to: TARGET, data: '0x' }
    const cfg = { tracer: 'callTracer' }
    const ours = await ok(devnet.url, 'debug_traceCall', [call, 'latest', cfg])
    const theirs = await ok(anvil.url, 'debug_traceCall', [call, 'latest', cfg])
    for (const k of ['type', 'from', 'to', 'input', 'output']) expect(ours[k]).toBe(theirs[k])
    expect(ours.calls.map((c: any) => [c.type, c.to])).toEqual(theirs.calls.map((c: any) => [c.type, c.to]))
    expect(BigInt(ours.output)).toBe(42n)
  })

  it('debug_traceCall with the struct logger and with state overrides', async () => {
    const call = { from: ADDR0, to: TARGET }
    const plain = await ok(devnet.url, 'debug_traceCall', [call, 'latest', {}])
    const theirs = await ok(anvil.url, 'debug_traceCall', [call, 'latest', {}])
    expect(plain.failed).toBe(false)
    expect(plain.structLogs.map((s: any) => s.op)).toEqual(theirs.structLogs.map((s: any) => s.op))
    const overridden = await ok(devnet.url, 'debug_traceCall', [
      call,
      'latest',
      {
        tracer: 'callTracer',
        stateOverrides: { [TARGET]: { stateDiff: { [`0x${'00'.repeat(32)}`]: `0x${'00'.repeat(31)}07` } } },
      },
    ])
    expect(BigInt(overridden.output)).toBe(7n)
    const refused = await rpc(devnet.url, 'debug_traceCall', [
      call,
      'latest',
      { stateOverrides: { [INFERENCE_PRECOMPILE_ADDRESS]: { code: '0x00' } } },
    ])
    expect(refused.error?.message).toMatch(/cannot be overridden/)
  })

  it('eth_getAccount answers as anvil does', async () => {
    for (const who of [ADDR0, TARGET]) {
      const ours = await ok(devnet.url, 'eth_getAccount', [who, 'latest'])
      const theirs = await ok(anvil.url, 'eth_getAccount', [who, 'latest'])
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort())
      expect(ours.codeHash).toBe(theirs.codeHash)
    }
    expect((await ok(devnet.url, 'eth_getAccount', [TARGET, 'latest'])).storageRoot).toBe(
      (await ok(anvil.url, 'eth_getAccount', [TARGET, 'latest'])).storageRoot,
    )
  })

  it('eth_getUncleBy* answer null, as after the merge', async () => {
    const head = await ok(devnet.url, 'eth_getBlockByNumber', ['latest', false])
    expect(await ok(devnet.url, 'eth_getUncleByBlockHashAndIndex', [head.hash, '0x0'])).toBe(null)
    expect(await ok(devnet.url, 'eth_getUncleByBlockNumberAndIndex', ['latest', '0x0'])).toBe(null)
  })

  it('eth_sendRawTransactionSync returns the receipt, or code 4 with the hash when not mined in time', async () => {
    const wallet = new Wallet(KEY1)
    const nonce = Number(await ok(devnet.url, 'eth_getTransactionCount', [ADDR1, 'latest']))
    const sign = (n: number) =>
      wallet.signTransaction({
        type: 2,
        chainId: CHAIN_ID,
        nonce: n,
        to: ADDR0,
        value: 1n,
        gasLimit: 21000n,
        maxFeePerGas: 100_000_000_000n,
        maxPriorityFeePerGas: 1n,
      })
    const receipt = await ok(devnet.url, 'eth_sendRawTransactionSync', [await sign(nonce)])
    expect(receipt.status).toBe('0x1')
    expect(receipt.from).toBe(ADDR1.toLowerCase())
    await ok(devnet.url, 'evm_setAutomine', [false])
    try {
      const late = await rpc(devnet.url, 'eth_sendRawTransactionSync', [await sign(nonce + 1), 300])
      expect(late.error?.code).toBe(4)
      expect(late.error?.data).toMatch(/^0x[0-9a-f]{64}$/)
      // mined while waiting: the receipt comes back
      const pending = rpc(devnet.url, 'eth_sendRawTransactionSync', [await sign(nonce + 2), 20_000])
      await new Promise((r) => setTimeout(r, 300))
      await ok(devnet.url, 'evm_mine')
      expect((await pending).result?.status).toBe('0x1')
    } finally {
      await ok(devnet.url, 'evm_setAutomine', [true])
    }
  })
})
