/**
 * A fresh devnet's first iris inference transactions, per transaction: what bench:devnet's iris row (the median of
 * a fresh node's first 10) is made of, and what a start-up change costs before the node is ready. Each variant is a
 * compiled entry plus node flags (e.g. `--wasm-tiering-budget=1000000000`) or environment (`VAR=value`), started
 * fresh in every round, variants alternating; optionally `--transfers N` automined transfers first (bench:devnet
 * sends 500 and its eth_calls before the iris stream, so the node's JavaScript is warm by then).
 *
 *   node --import tsx bench/iris-first.ts --entry .tmp-bench-dist-29300/cli/main.js \
 *     --variant= --variant=--wasm-tiering-budget=1000000000 [--rounds 3 --txs 20 --transfers 0 --port-base 29340]
 *
 * Printed per variant: time from spawn to ready (eth_chainId answers and the examples are deployed) and the node's
 * CPU by then, the iris transactions' send-to-receipt wall (median of the first 10, as bench:devnet, and of the
 * rest), the node's CPU for the first transaction, per transaction over the 2nd-10th and over the rest, and (on
 * stderr) every transaction's wall.
 */
import '../src/polyfills.ts'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { exampleModels } from '../examples/models/index.ts'
import { abiTensor, INFERENCE, inferenceAbi } from '../test/helpers/models.ts'
import { processCpuMs, rpc, stopChild } from './helpers.ts'
import { median } from './stats.ts'

const { values } = parseArgs({
  options: {
    entry: { type: 'string' },
    variant: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '3' },
    txs: { type: 'string', default: '20' },
    transfers: { type: 'string', default: '0' },
    'port-base': { type: 'string', default: '29340' },
  },
})
if (!values.entry) throw new Error('give --entry <compiled cli/main.js>')
const ENTRY = values.entry
const VARIANTS = values.variant ?? ['']
const ROUNDS = Number(values.rounds)
const TXS = Number(values.txs)
const TRANSFERS = Number(values.transfers)
const PORT_BASE = Number(values['port-base'])
const CHAIN_ID = 41232n
// the devnet's test mnemonic: #3 sends inferences (bench:devnet's iris sender), #2 transfers
const IRIS_KEY = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'
const IRIS_FROM = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const TRANSFER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const common = createCustomCommon({ chainId: Number(CHAIN_ID) }, Mainnet, { hardfork: 'prague' })
const iris = exampleModels({ only: ['iris'] })[0]

interface Result {
  readyMs: number
  readyCpu: number
  walls: number[]
  cpu: number[]
}

function sign(key: string, nonce: bigint, to: string, data: Uint8Array, gasLimit: bigint, value = 0n): string {
  const tx = createFeeMarket1559Tx(
    {
      nonce,
      maxFeePerGas: 100n * 10n ** 9n,
      maxPriorityFeePerGas: 10n ** 9n,
      gasLimit,
      to: createAddressFromString(to),
      value,
      data,
      chainId: CHAIN_ID,
    },
    { common },
  )
  return bytesToHex(tx.sign(hexToBytes(key as `0x${string}`)).serialize())
}

async function toReceipt(url: string, raw: string): Promise<void> {
  const hash = await rpc(url, 'eth_sendRawTransaction', [raw])
  let r = await rpc(url, 'eth_getTransactionReceipt', [hash])
  while (!r) r = await rpc(url, 'eth_getTransactionReceipt', [hash])
  if (r.status !== '0x1') throw new Error(`transaction ${hash} reverted`)
}

async function once(variant: string, port: number): Promise<Result> {
  const words = variant.split(' ').filter(Boolean)
  const env = { ...process.env }
  const flags: string[] = []
  for (const w of words) {
    const eq = w.indexOf('=')
    if (!w.startsWith('-') && eq > 0) env[w.slice(0, eq)] = w.slice(eq + 1)
    else flags.push(w)
  }
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-iris-first-'))
  const t0 = performance.now()
  const child: ChildProcess = spawn(
    process.execPath,
    [...flags, ENTRY, 'devnet', '--port', String(port), '--datadir', datadir],
    { stdio: 'ignore', env },
  )
  try {
    const url = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 180_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${ENTRY} ${variant} exited`)
      if (Date.now() > deadline) throw new Error(`${ENTRY} ${variant} did not start`)
      const up = await rpc(url, 'eth_chainId').catch(() => undefined)
      if (up && existsSync(join(datadir, 'examples.json'))) break
      await new Promise((r) => setTimeout(r, 20))
    }
    const readyMs = performance.now() - t0
    const readyCpu = processCpuMs(child.pid!)
    for (let i = 0; i < TRANSFERS; i++)
      await toReceipt(url, sign(TRANSFER_KEY, BigInt(i), TO, new Uint8Array(), 21000n, 1n))
    const saved = JSON.parse(readFileSync(join(datadir, 'examples.json'), 'utf8')) as {
      models: { name: string; modelId: string }[]
    }
    const modelId = saved.models.find((m) => m.name === 'iris')?.modelId
    if (!modelId) throw new Error('the devnet has no iris model')
    const data = hexToBytes(
      inferenceAbi.encodeFunctionData('infer', [modelId, iris.sampleInput.map(abiTensor)]) as `0x${string}`,
    )
    const nonce = BigInt(await rpc(url, 'eth_getTransactionCount', [IRIS_FROM, 'latest']))
    const raws = Array.from({ length: TXS }, (_, i) => sign(IRIS_KEY, nonce + BigInt(i), INFERENCE, data, 3_000_000n))
    const walls: number[] = []
    const cpu: number[] = []
    for (const raw of raws) {
      const c0 = processCpuMs(child.pid!)
      const w0 = performance.now()
      await toReceipt(url, raw)
      walls.push(performance.now() - w0)
      cpu.push(processCpuMs(child.pid!) - c0)
    }
    return { readyMs, readyCpu, walls, cpu }
  } finally {
    await stopChild(child, datadir)
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const f = (x: number) => x.toFixed(1)

async function main(): Promise<void> {
  const results = new Map<string, Result[]>(VARIANTS.map((v) => [v, []]))
  const load0 = loadavg()[0]
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()
    for (const [i, v] of order.entries()) {
      const res = await once(v, PORT_BASE + i)
      results.get(v)?.push(res)
      console.error(
        `round ${r + 1} [${v || 'default'}]: ready ${f(res.readyMs)} ms (cpu ${f(res.readyCpu)}), first 10 median ${f(median(res.walls.slice(0, 10)))} ms, walls ${res.walls.map((w) => w.toFixed(0)).join(' ')}`,
      )
    }
  }
  console.log(
    `node ${process.version}, ${new Date().toISOString()}, load ${load0.toFixed(1)}–${loadavg()[0].toFixed(1)}, ` +
      `${ROUNDS} rounds, ${TRANSFERS} transfers then ${TXS} iris transactions per fresh node, ${ENTRY}\n\n` +
      '| variant | ready ms (node CPU) | iris wall, median of first 10 per round | CPU ms/tx: 1st, 2nd–10th | rest: wall median, CPU ms/tx |\n' +
      '| --- | ---: | ---: | ---: | ---: |',
  )
  for (const [v, rs] of results) {
    const firsts = rs.map((x) => median(x.walls.slice(0, 10)))
    // the first transaction apart: without a warm-up it starts the worker and compiles the runtime
    const cpu1 = median(rs.map((x) => x.cpu[0] ?? Number.NaN))
    const cpu10 = sum(rs.map((x) => sum(x.cpu.slice(1, 10)))) / sum(rs.map((x) => x.cpu.slice(1, 10).length))
    const rest = rs.flatMap((x) => x.walls.slice(10))
    const cpuRest = sum(rs.map((x) => sum(x.cpu.slice(10)))) / Math.max(1, rest.length)
    console.log(
      `| ${v || 'default'} | ${f(median(rs.map((x) => x.readyMs)))} (${f(median(rs.map((x) => x.readyCpu)))}) | ` +
        `${f(median(firsts))} (${firsts.map(f).join(', ')}) | ${f(cpu1)}, ${f(cpu10)} | ${f(median(rest))}, ${f(cpuRest)} |`,
    )
  }
}

await main()
