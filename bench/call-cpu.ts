/**
 * A devnet process's own CPU per eth_call (utime + stime from /proc, all its threads), beside eth_chainId: for
 * A/B runs of the call path between two builds, alternating, without anvil or the transfer stream of
 * bench/devnet.ts. Workloads: eth_chainId, eth_call of a Counter view at `latest` and at its deploy block, and
 * evm_mine followed by one eth_call at the new head (the first call on every new head, as in a test suite).
 *
 *   node --import tsx bench/call-cpu.ts --entry <dir>/cli/main.js [--entry <other>/cli/main.js] [--rounds 2]
 *     [--calls 1000] [--port 29160]
 *
 * An entry is a compiled CLI (bench/devnet.ts `--from dist` leaves one in .tmp-bench-dist-<port base>/).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Interface } from 'ethers'
import { COUNTER_SOL, compileContract } from '../test/helpers/solc.ts'
import { processCpuMs, rpc, stopChild } from './helpers.ts'

const { values } = parseArgs({
  options: {
    entry: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '2' },
    calls: { type: 'string', default: '1000' },
    port: { type: 'string', default: '29160' },
  },
})
const ENTRIES = values.entry ?? []
if (ENTRIES.length === 0) throw new Error('--entry <compiled cli/main.js> (once or twice)')
const N = Number(values.calls)
const PORT = values.port ?? '29160'
const URL_ = `http://127.0.0.1:${PORT}`
const DEPLOYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const counter = compileContract(COUNTER_SOL, 'Counter')
const data = new Interface(counter.abi).encodeFunctionData('get')

const send = (method: string, params: unknown[]): Promise<any> => rpc(URL_, method, params)

async function measure(entry: string): Promise<string> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-call-cpu-'))
  const child = spawn(process.execPath, [entry, 'devnet', '--port', PORT, '--datadir', datadir], { stdio: 'ignore' })
  const pid = child.pid
  if (pid === undefined) throw new Error('devnet did not start')
  try {
    for (let i = 0; ; i++) {
      try {
        await send('eth_chainId', [])
        break
      } catch (err) {
        if (i > 300) throw err
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    const hash = await send('eth_sendTransaction', [{ from: DEPLOYER, data: counter.bytecode }])
    let receipt = await send('eth_getTransactionReceipt', [hash])
    while (!receipt) {
      await new Promise((r) => setTimeout(r, 5))
      receipt = await send('eth_getTransactionReceipt', [hash])
    }
    for (let i = 0; i < 5; i++) await send('evm_mine', [])
    const call = { to: receipt.contractAddress, data }
    const loads: [string, number, () => Promise<unknown>][] = [
      ['eth_chainId', N, () => send('eth_chainId', [])],
      ['eth_call at head', N, () => send('eth_call', [call, 'latest'])],
      ['eth_call at the deploy block', N, () => send('eth_call', [call, receipt.blockNumber])],
      [
        'evm_mine + eth_call at the new head',
        Math.ceil(N / 5),
        async () => {
          await send('evm_mine', [])
          return send('eth_call', [call, 'latest'])
        },
      ],
    ]
    const out: string[] = []
    for (const [label, n, f] of loads) {
      for (let i = 0; i < 50; i++) await f()
      const c0 = processCpuMs(pid)
      const t0 = performance.now()
      for (let i = 0; i < n; i++) await f()
      const wall = (performance.now() - t0) / n
      out.push(`${label}: ${wall.toFixed(2)} wall, ${((processCpuMs(pid) - c0) / n).toFixed(2)} cpu`)
    }
    return out.join(' | ')
  } finally {
    await stopChild(child, datadir)
  }
}

console.log(
  `node ${process.version}, ${new Date().toISOString()}, ms per op, load ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
)
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const entry of ENTRIES) console.log(`round ${round} ${entry}: ${await measure(entry)}`)
}
