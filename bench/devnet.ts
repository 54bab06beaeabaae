/**
 * Devnet throughput against anvil, measured in the same run on the same machine.
 * Prints each figure for both nodes and the ratio ours/anvil (time: lower is better).
 *
 *   npm run bench:devnet [-- --transfers 500 --calls 2000]
 */
import '../src/polyfills.ts'
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Common, createCustomCommon, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { Interface } from 'ethers'
import { COUNTER_SOL, compileContract } from '../test/helpers/solc.ts'

const { values } = parseArgs({
  options: { transfers: { type: 'string', default: '500' }, calls: { type: 'string', default: '2000' } },
})
const TRANSFERS = Number(values.transfers)
const CALLS = Number(values.calls)
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const FROM = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const require = createRequire(import.meta.url)
const ANVIL = join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil')

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

let nextId = 1
async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  })
  const body = (await res.json()) as any
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

async function waitUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`node at ${url} exited`)
    try {
      await rpc(url, 'eth_chainId')
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`node at ${url} did not start`)
}

interface Target {
  name: string
  url: string
  child: ChildProcess
  cleanup: () => void
}

async function startLattice(): Promise<Target> {
  const port = await freePort()
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-bench-'))
  const bin = new URL('../bin/lattice.js', import.meta.url).pathname
  const child = spawn(
    process.execPath,
    [bin, 'devnet', '--port', String(port), '--datadir', datadir, '--no-examples'],
    {
      stdio: 'ignore',
    },
  )
  const url = `http://127.0.0.1:${port}`
  await waitUp(url, child)
  return { name: 'lattice', url, child, cleanup: () => rmSync(datadir, { recursive: true, force: true }) }
}

async function startAnvil(): Promise<Target> {
  const port = await freePort()
  const child = spawn(ANVIL, ['--port', String(port), '--silent'], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  await waitUp(url, child)
  return { name: 'anvil', url, child, cleanup: () => {} }
}

interface Figures {
  transfers: number
  calls: number
  chainId: number
}

async function measure(t: Target): Promise<Figures> {
  const chainId = BigInt(await rpc(t.url, 'eth_chainId'))
  const common: Common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork: 'prague' })
  // deploy the view-function target
  const { abi, bytecode } = compileContract(COUNTER_SOL, 'Counter')
  const deployHash = await rpc(t.url, 'eth_sendTransaction', [{ from: FROM, data: bytecode }])
  let receipt: any = await rpc(t.url, 'eth_getTransactionReceipt', [deployHash])
  while (!receipt) {
    await new Promise((r) => setTimeout(r, 20))
    receipt = await rpc(t.url, 'eth_getTransactionReceipt', [deployHash])
  }
  const counter = receipt.contractAddress
  // pre-sign the transfers
  const nonce = BigInt(await rpc(t.url, 'eth_getTransactionCount', [FROM, 'latest']))
  const raws = Array.from({ length: TRANSFERS }, (_, i) =>
    bytesToHex(
      createFeeMarket1559Tx(
        {
          nonce: nonce + BigInt(i),
          maxFeePerGas: 100n * 10n ** 9n,
          maxPriorityFeePerGas: 10n ** 9n,
          gasLimit: 21000n,
          to: createAddressFromString(TO),
          value: 1n,
          chainId,
        },
        { common },
      )
        .sign(hexToBytes(KEY))
        .serialize(),
    ),
  )

  let t0 = performance.now()
  let last = ''
  for (const raw of raws) last = await rpc(t.url, 'eth_sendRawTransaction', [raw])
  while (!(await rpc(t.url, 'eth_getTransactionReceipt', [last]))) await new Promise((r) => setTimeout(r, 5))
  const transfers = performance.now() - t0

  const data = new Interface(abi).encodeFunctionData('get')
  t0 = performance.now()
  for (let i = 0; i < CALLS; i++) await rpc(t.url, 'eth_call', [{ to: counter, data }, 'latest'])
  const calls = performance.now() - t0

  t0 = performance.now()
  for (let i = 0; i < CALLS; i++) await rpc(t.url, 'eth_chainId')
  const chainIdMs = performance.now() - t0
  return { transfers, calls, chainId: chainIdMs }
}

async function main(): Promise<void> {
  const results: Record<string, Figures> = {}
  for (const start of [startLattice, startAnvil]) {
    const t = await start()
    try {
      results[t.name] = await measure(t)
    } finally {
      t.child.kill('SIGTERM')
      await new Promise((r) => t.child.once('exit', r))
      t.cleanup()
    }
  }
  const ours = results.lattice
  const anvil = results.anvil
  const rows: [string, keyof Figures, number][] = [
    [`${TRANSFERS} pre-signed transfers -> last receipt`, 'transfers', TRANSFERS],
    [`${CALLS} sequential eth_call (view)`, 'calls', CALLS],
    [`${CALLS} sequential eth_chainId`, 'chainId', CALLS],
  ]
  console.log(`\nnode ${process.version}, ${new Date().toISOString()}`)
  console.log('| workload | lattice ms | anvil ms | lattice/anvil | lattice per op |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const [label, key, n] of rows) {
    console.log(
      `| ${label} | ${ours[key].toFixed(0)} | ${anvil[key].toFixed(0)} | ${(ours[key] / anvil[key]).toFixed(2)}x | ${((ours[key] / n) * 1000).toFixed(0)} µs |`,
    )
  }
}

await main()
