import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { freePort } from '../helpers/devnet-process.ts'

/** Runtime code `JUMPDEST PUSH1 0 JUMP`: loops until the gas runs out (50M gas takes well over the timeout). */
const LOOP_RUNTIME = '5b600056'
/** Runtime code returning the GAS left at its first instruction. */
const GAS_RUNTIME = '5a60005260206000f3'
const MAX_U64 = '0xffffffffffffffff'
const TIMEOUT_MS = 3000

/** Init code that deploys `runtime` (at most 32 bytes). */
function deployCode(runtime: string): string {
  const n = runtime.length / 2
  const push = (0x5f + n).toString(16)
  // PUSHn runtime, PUSH1 0, MSTORE, PUSH1 n, PUSH1 32-n, RETURN
  return `0x${push}${runtime}60005260${n.toString(16).padStart(2, '0')}60${(32 - n).toString(16).padStart(2, '0')}f3`
}

describe('RPC calls are bounded (--rpc.evmtimeout, --rpc.gascap)', () => {
  let devnet: TestDevnet
  let loop: string
  let gasProbe: string

  async function deploy(runtime: string): Promise<string> {
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, data: deployCode(runtime) }])
    expect(sent.error).toBeUndefined()
    const receipt = (await rpc(devnet.url, 'eth_getTransactionReceipt', [sent.result])).result
    expect(receipt.status).toBe('0x1')
    expect((await rpc(devnet.url, 'eth_getCode', [receipt.contractAddress, 'latest'])).result).toBe(`0x${runtime}`)
    return receipt.contractAddress
  }

  beforeAll(async () => {
    devnet = await startTestDevnet({ callLimits: { timeoutMs: TIMEOUT_MS } })
    loop = await deploy(LOOP_RUNTIME)
    gasProbe = await deploy(GAS_RUNTIME)
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('eth_call with gas 2^64-1 is capped at 50M, eth_estimateGas at the transaction cap', async () => {
    const r = await rpc(devnet.url, 'eth_call', [{ to: gasProbe, gas: MAX_U64 }, 'latest'])
    expect(r.error).toBeUndefined()
    const left = BigInt(r.result)
    expect(left).toBeGreaterThan(49_970_000n)
    expect(left).toBeLessThan(50_000_000n)
    const est = await rpc(devnet.url, 'eth_estimateGas', [{ to: gasProbe, gas: MAX_U64 }, 'latest'])
    expect(est.error).toBeUndefined()
    expect(BigInt(est.result)).toBeLessThanOrEqual(1n << 24n)
  }, 60_000)

  it('4 infinite-loop calls time out with geth’s error while the node answers and mines', async () => {
    const started = performance.now()
    const calls = Array.from({ length: 4 }, () =>
      rpc(devnet.url, 'eth_call', [{ to: loop, gas: MAX_U64 }, 'latest']).then((r) => ({
        r,
        ms: performance.now() - started,
      })),
    )
    let done = false
    void Promise.all(calls).then(() => {
      done = true
    })
    const latencies: number[] = []
    const pinger = (async () => {
      while (!done) {
        const t0 = performance.now()
        expect((await rpc(devnet.url, 'eth_blockNumber')).result).toMatch(/^0x/)
        latencies.push(performance.now() - t0)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    // a value transfer while the calls run
    await new Promise((resolve) => setTimeout(resolve, 300))
    const t0 = performance.now()
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
    expect(sent.error).toBeUndefined()
    const receipt = (await rpc(devnet.url, 'eth_getTransactionReceipt', [sent.result])).result
    const transferMs = performance.now() - t0
    expect(receipt?.status).toBe('0x1')
    expect(done).toBe(false) // the transfer was mined while the calls were still running

    const results = await Promise.all(calls)
    await pinger
    for (const { r, ms } of results) {
      expect(r.error?.code).toBe(-32000)
      expect(r.error?.message).toBe('execution aborted (timeout = 3s)')
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
      expect(ms).toBeLessThan(TIMEOUT_MS + 3000)
    }
    const worst = Math.max(...latencies)
    console.log(
      `eth_blockNumber during 4 looping calls: ${latencies.length} probes, worst ${worst.toFixed(0)} ms, median ${latencies
        .sort((a, b) => a - b)
        [Math.floor(latencies.length / 2)]?.toFixed(
          0,
        )} ms; transfer mined in ${transferMs.toFixed(0)} ms; calls ended at ${results
        .map((x) => x.ms.toFixed(0))
        .join(', ')} ms`,
    )
    // the issue asks < 200 ms on a quiet machine; the bound leaves room for a loaded CI host
    expect(worst).toBeLessThan(1000)
    expect(transferMs).toBeLessThan(3000)
    // and the node is still whole: a plain call works, the chain VM has no open checkpoint (checked at stop)
    expect((await rpc(devnet.url, 'eth_call', [{ to: gasProbe }, 'latest'])).error).toBeUndefined()
  }, 120_000)

  it('eth_estimateGas on the loop ends with the timeout error too', async () => {
    const t0 = performance.now()
    const r = await rpc(devnet.url, 'eth_estimateGas', [{ from: ADDR0, to: loop }, 'latest'])
    expect(r.error?.message).toMatch(/out of gas|execution aborted \(timeout = 3s\)/)
    expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS + 3000)
  }, 60_000)
})

describe('SIGTERM during looping calls', () => {
  const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname
  let child: ChildProcess | undefined
  let datadir: string | undefined
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    if (datadir) rmSync(datadir, { recursive: true, force: true })
  })

  it('stops the node at once: calls in flight are halted, not waited for', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    datadir = mkdtempSync(join(tmpdir(), 'lattice-sigterm-'))
    const args = ['devnet', '--port', String(port), '--datadir', datadir, '--no-examples', '--rpc.evmtimeout', '60s']
    child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout?.on('data', (d) => {
      output += d
    })
    child.stderr?.on('data', (d) => {
      output += d
    })
    const deadline = Date.now() + 60_000
    while (!output.includes('Listening on') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100))
    }
    const code = { '0x00000000000000000000000000000000000000aa': { code: `0x${LOOP_RUNTIME}` } }
    const calls = Array.from({ length: 4 }, () =>
      rpc(url, 'eth_call', [{ to: '0x00000000000000000000000000000000000000aa', gas: MAX_U64 }, 'latest', code]).catch(
        () => 'no answer',
      ),
    )
    await new Promise((r) => setTimeout(r, 1500))
    // the calls are running: the node still answers
    expect((await rpc(url, 'eth_blockNumber')).result).toBe('0x0')
    const exited = new Promise((r) => child?.once('exit', r))
    const t0 = performance.now()
    child.kill('SIGTERM')
    await exited
    const ms = performance.now() - t0
    console.log(`SIGTERM with 4 looping calls in flight: exited in ${ms.toFixed(0)} ms`)
    expect(child.exitCode).toBe(0)
    expect(ms).toBeLessThan(2000)
    await Promise.all(calls)
  }, 120_000)
})
