/**
 * Devnet latency against anvil, measured in the same run on the same machine. Each round starts a fresh
 * node of each kind, in alternating order (so that load drifts hit both alike), on a fixed port range;
 * every figure is the median over the rounds with its spread (min–max); ratios are ours/anvil, of the medians
 * and per round (time per operation: lower is better). `cpu:` rows are the node process's own CPU time per
 * operation (/proc/<pid>/stat), which load on a shared machine disturbs far less than wall time. Everything is compiled and signed before any node starts:
 * work between a node's first reply and the first request let keep-alive sockets close (UND_ERR_SOCKET).
 *
 *   npm run bench:devnet [-- --rounds 6 --calls 500 --long --wait-each --port-base 28600 --iris 20 --from dist --only lattice]
 *
 * `--from dist` (default) compiles src/ with tsc into .tmp-bench-dist-<port base>/ first and runs the devnet from that
 * JavaScript, as `lattice` runs after `npm run build`; `--from src` runs the TypeScript through tsx (bin/lattice.js
 * without a build). `--only lattice` skips anvil (A/B runs of lattice alone; no ratios); `--only anvil` the other way.
 *
 * Default: transfers over blocks 1–500. `--long`: 3,000 transfers, blocks 1–500 and 2,500–3,000 reported
 * apart (anvil slows as its chain grows). The iris inference-transaction stream runs on lattice only.
 */
import '../src/polyfills.ts'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { Interface } from 'ethers'
import { COUNTER_SOL, compileContract } from '../test/helpers/solc.ts'
import { compileDist, processCpuMs, receiptSoon, rpc, startHttpTarget, stopChild, until } from './helpers.ts'
import { inferenceTxStream } from './inference-txs.ts'
import { median } from './stats.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    calls: { type: 'string', default: '500' },
    long: { type: 'boolean', default: false },
    iris: { type: 'string', default: '20' },
    'port-base': { type: 'string', default: '28600' },
    from: { type: 'string', default: 'dist' },
    only: { type: 'string' },
    'wait-each': { type: 'boolean', default: false },
  },
})
if (values.from !== 'dist' && values.from !== 'src') throw new Error('--from is dist or src')
if (values.only !== undefined && values.only !== 'lattice' && values.only !== 'anvil')
  throw new Error('--only lattice|anvil')
const TARGETS: Target['name'][] = values.only ? [values.only as Target['name']] : ['lattice', 'anvil']
/**
 * `--wait-each`: every transfer waits for its receipt before the next is sent (what a test suite's `tx.wait()`
 * does). Without it transfers are sent back to back and only a window's last receipt is awaited; anvil 1.7.1 then
 * leaves transactions pending for good once its chain is ~2,000 blocks long (23 stuck in its pool after 2,500
 * back-to-back sends, `txpool_status`), so `--long` needs this mode.
 */
const WAIT_EACH = values['wait-each'] === true
const ROUNDS = Number(values.rounds)
const CALLS = Number(values.calls)
const TRANSFERS = values.long ? 3000 : 500
const WINDOWS: [string, number, number][] = values.long
  ? [
      ['transfers, blocks 1–500', 0, 500],
      ['transfers, blocks 2,500–3,000', 2500, 3000],
    ]
  : [['transfers, blocks 1–500', 0, 500]]
const IRIS = Number(values.iris)
const PORT_BASE = Number(values['port-base'])
const LATTICE_CHAIN_ID = 41232n
const ANVIL_CHAIN_ID = 31337n
// anvil's (and the devnet's) test mnemonic: #0 deploys, #2 sends transfers, #3 sends inferences (inference-txs.ts)
const DEPLOYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const TRANSFER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

interface Target {
  name: 'lattice' | 'anvil'
  url: string
  child: ChildProcess
  datadir?: string
}

async function start(name: Target['name'], port: number): Promise<Target> {
  const t = await startHttpTarget(name === 'lattice' ? 'devnet' : 'anvil', port, () => LATTICE_ENTRY)
  return { name, ...t }
}

async function stop(t: Target): Promise<void> {
  await stopChild(t.child, t.datadir)
}

function signTransfers(chainId: bigint): string[] {
  const common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork: 'prague' })
  const key = hexToBytes(TRANSFER_KEY)
  const to = createAddressFromString(TO)
  return Array.from({ length: TRANSFERS }, (_, i) =>
    bytesToHex(
      createFeeMarket1559Tx(
        {
          nonce: BigInt(i),
          maxFeePerGas: 100n * 10n ** 9n,
          maxPriorityFeePerGas: 10n ** 9n,
          gasLimit: 21000n,
          to,
          value: 1n,
          chainId,
        },
        { common },
      )
        .sign(key)
        .serialize(),
    ),
  )
}

/**
 * The devnet's entry: compiled JavaScript (tsx's loader, its per-function `__name` wrappers and source-map work
 * cost CPU on every request), or bin/lattice.js over the TypeScript sources. The output folder sits one level
 * below the repository root like dist/, so the sources' `../../` paths resolve alike; bin/lattice.js never sees it.
 */
function latticeEntry(): string {
  const root = new URL('..', import.meta.url).pathname
  return values.from === 'src' ? join(root, 'bin', 'lattice.js') : compileDist(root, PORT_BASE)
}
const LATTICE_ENTRY = latticeEntry()

const counter = compileContract(COUNTER_SOL, 'Counter')
const getData = new Interface(counter.abi).encodeFunctionData('get')
const signed = new Map<bigint, string[]>([
  [LATTICE_CHAIN_ID, signTransfers(LATTICE_CHAIN_ID)],
  [ANVIL_CHAIN_ID, signTransfers(ANVIL_CHAIN_ID)],
])

/** Milliseconds per operation, by workload. */
type Figures = Record<string, number>

async function receipt(url: string, hash: string): Promise<any> {
  return until(`receipt ${hash}`, () => rpc(url, 'eth_getTransactionReceipt', [hash]))
}

/** CPU time (user + system, ms) the node process has used so far: less sensitive to load than wall time. */
function cpuMs(t: Target): number {
  return processCpuMs(t.child.pid as number)
}

/** Wall ms per op, and the node's CPU ms per op under `cpu: <label>`. */
async function timeLoop(t: Target, out: Figures, label: string, n: number, f: () => Promise<unknown>): Promise<void> {
  const c0 = cpuMs(t)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await f()
  out[label] = (performance.now() - t0) / n
  out[`cpu: ${label}`] = (cpuMs(t) - c0) / n
}

async function measure(t: Target): Promise<Figures> {
  const out: Figures = {}
  const chainId = BigInt(await rpc(t.url, 'eth_chainId'))
  const raws = signed.get(chainId)
  if (!raws) throw new Error(`no transfers signed for chain ${chainId}`)
  const deployHash = await rpc(t.url, 'eth_sendTransaction', [{ from: DEPLOYER, data: counter.bytecode }])
  const deployed = await receipt(t.url, deployHash)
  const target = deployed.contractAddress
  const first = Number(await rpc(t.url, 'eth_blockNumber')) + 1
  // one transfer per automined block; a window's clock starts once the block before it is in
  let t0 = 0
  let c0 = 0
  let prev = ''
  for (let i = 0; i < TRANSFERS; i++) {
    const opens = WINDOWS.find((w) => w[1] === i)
    if (opens) {
      if (prev) await receipt(t.url, prev)
      t0 = performance.now()
      c0 = cpuMs(t)
    }
    prev = await rpc(t.url, 'eth_sendRawTransaction', [raws[i]])
    if (WAIT_EACH) await receiptSoon(t.url, prev)
    const closes = WINDOWS.find((w) => w[2] === i + 1)
    if (closes) {
      await receipt(t.url, prev)
      out[closes[0]] = (performance.now() - t0) / (closes[2] - closes[1])
      out[`cpu: ${closes[0]}`] = (cpuMs(t) - c0) / (closes[2] - closes[1])
    }
  }
  out.chainLength = Number(await rpc(t.url, 'eth_blockNumber'))
  out.firstTransferBlock = first
  const call = { to: target, data: getData }
  await timeLoop(t, out, 'eth_call at head', CALLS, () => rpc(t.url, 'eth_call', [call, 'latest']))
  const past = `0x${Number(deployed.blockNumber).toString(16)}`
  await timeLoop(t, out, 'eth_call at a past block', CALLS, () => rpc(t.url, 'eth_call', [call, past]))
  await timeLoop(t, out, 'eth_chainId', CALLS, () => rpc(t.url, 'eth_chainId'))
  if (t.name === 'lattice' && IRIS > 0)
    out['iris inference transaction'] = median((await inferenceTxStream(t, 'iris', IRIS)).walls)
  return out
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1))
const spread = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`

async function main(): Promise<void> {
  const runs: Record<Target['name'], Figures[]> = { lattice: [], anvil: [] }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? TARGETS : [...TARGETS].reverse()
    for (const [i, name] of order.entries()) {
      const t = await start(name, PORT_BASE + 2 * round + i)
      try {
        runs[name].push(await measure(t))
      } finally {
        await stop(t)
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${name}: ${JSON.stringify(runs[name].at(-1))}\n`)
    }
  }
  const rows = [...WINDOWS.map((w) => w[0]), 'eth_call at head', 'eth_call at a past block', 'eth_chainId']
  console.log(
    `\nnode ${process.version}, ${new Date().toISOString()}, ${ROUNDS} alternating rounds, from ${values.from}`,
  )
  if (runs.anvil.length === 0) return oneTarget('lattice', runs.lattice, rows)
  if (runs.lattice.length === 0) return oneTarget('anvil', runs.anvil, rows)
  console.log(
    `chain length at the end: lattice ${runs.lattice[0].chainLength}, anvil ${runs.anvil[0].chainLength}; ` +
      `first transfer in block ${runs.lattice[0].firstTransferBlock} / ${runs.anvil[0].firstTransferBlock}; ` +
      `${CALLS} sequential requests per call row`,
  )
  console.log(
    '| workload (ms per op) | lattice median (spread) | anvil median (spread) | ratio of medians | per-round ratio median (spread) |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const row of [...rows, ...rows.map((r) => `cpu: ${r}`)]) {
    const ours = runs.lattice.map((f) => f[row])
    const theirs = runs.anvil.map((f) => f[row])
    // rounds pair a lattice and an anvil run made back to back: their ratio cancels slow load drift
    const paired = ours.map((x, i) => x / theirs[i])
    console.log(
      `| ${row} | ${fmt(median(ours))} (${spread(ours)}) | ${fmt(median(theirs))} (${spread(theirs)}) | ${(median(ours) / median(theirs)).toFixed(2)}x | ${median(paired).toFixed(2)}x (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)}) |`,
    )
  }
  if (IRIS > 0) {
    const xs = runs.lattice.map((f) => f['iris inference transaction'])
    console.log(`| iris inference transaction (median of ${IRIS}) | ${fmt(median(xs))} (${spread(xs)}) | – | – |`)
  }
}

/** `--only lattice|anvil`: one target's figures alone. */
function oneTarget(name: Target['name'], runs: Figures[], rows: string[]): void {
  console.log(`chain length at the end: ${runs[0].chainLength}; first transfer in block ${runs[0].firstTransferBlock}`)
  console.log(`| workload (ms per op) | ${name} median (spread) |\n| --- | ---: |`)
  const iris = IRIS > 0 && name === 'lattice' ? ['iris inference transaction'] : []
  for (const row of [...rows, ...rows.map((r) => `cpu: ${r}`), ...iris]) {
    const xs = runs.map((f) => f[row])
    console.log(`| ${row} | ${fmt(median(xs))} (${spread(xs)}) |`)
  }
}

await main()
