/**
 * A/B of the automined iris inference transaction between builds of the devnet: each entry (a compiled
 * `cli/main.js`, e.g. bench:devnet's .tmp-bench-dist-<port base>/cli/main.js of two checkouts) runs as its own
 * devnet process; batches of pre-signed iris `infer` transactions go to them in turn, each sent and awaited to
 * its receipt over HTTP (what bench:devnet's iris row does). Printed per entry: send-to-receipt wall median
 * (10th–90th percentile) and the node process's CPU per transaction (/proc/<pid>/stat, every thread), for the
 * first `--early` transactions of each node (start-up: tier-up, first loads) and for the rest apart.
 *
 *   node --import tsx bench/iris-ab.ts --entry A/cli/main.js --entry B/cli/main.js [--txs 120 --batch 10
 *     --early 30 --port-base 29320]
 */
import '../src/polyfills.ts'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { processCpuMs, rpc, stopChild } from './helpers.ts'
import { signInferenceTxs } from './inference-txs.ts'

const { values } = parseArgs({
  options: {
    entry: { type: 'string', multiple: true },
    txs: { type: 'string', default: '120' },
    batch: { type: 'string', default: '10' },
    early: { type: 'string', default: '30' },
    'port-base': { type: 'string', default: '29320' },
  },
})
const ENTRIES = values.entry ?? []
if (ENTRIES.length === 0) throw new Error('give at least one --entry <compiled cli/main.js>')
const TXS = Number(values.txs)
const BATCH = Number(values.batch)
const EARLY = Number(values.early)
const PORT_BASE = Number(values['port-base'])

interface Node {
  entry: string
  url: string
  child: ChildProcess
  datadir: string
  raws: string[]
  next: number
  walls: number[][]
  cpu: [number, number][]
}

async function start(entry: string, port: number): Promise<Node> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-iris-ab-'))
  const child = spawn(process.execPath, [entry, 'devnet', '--port', String(port), '--datadir', datadir], {
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 180_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited`)
    if (Date.now() > deadline) throw new Error(`${entry} did not start`)
    const up = await rpc(url, 'eth_chainId').catch(() => undefined)
    if (up && existsSync(join(datadir, 'examples.json'))) break
    await new Promise((r) => setTimeout(r, 50))
  }
  const raws = await signInferenceTxs({ url, datadir }, 'iris', TXS)
  return {
    entry,
    url,
    child,
    datadir,
    raws,
    next: 0,
    walls: [[], []],
    cpu: [
      [0, 0],
      [0, 0],
    ],
  }
}

async function stop(n: Node): Promise<void> {
  await stopChild(n.child, n.datadir)
}

async function batch(n: Node): Promise<void> {
  const end = Math.min(n.next + BATCH, TXS)
  const part = n.next < EARLY ? 0 : 1
  const c0 = processCpuMs(n.child.pid!)
  let count = 0
  for (; n.next < end && n.next < EARLY === (part === 0); n.next++, count++) {
    const t0 = performance.now()
    const hash = await rpc(n.url, 'eth_sendRawTransaction', [n.raws[n.next]])
    let r = await rpc(n.url, 'eth_getTransactionReceipt', [hash])
    while (!r) r = await rpc(n.url, 'eth_getTransactionReceipt', [hash])
    if (r.status !== '0x1') throw new Error('iris inference transaction reverted')
    n.walls[part].push(performance.now() - t0)
  }
  n.cpu[part][0] += processCpuMs(n.child.pid!) - c0
  n.cpu[part][1] += count
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
const f = (ms: number) => ms.toFixed(2)

async function main(): Promise<void> {
  const nodes: Node[] = []
  try {
    for (const [i, e] of ENTRIES.entries()) nodes.push(await start(e, PORT_BASE + i))
    const load0 = loadavg()[0]
    let round = 0
    while (nodes.some((n) => n.next < TXS)) {
      const order = round++ % 2 === 0 ? nodes : [...nodes].reverse()
      for (const n of order) if (n.next < TXS) await batch(n)
    }
    console.log(
      `node ${process.version}, ${new Date().toISOString()}, load ${load0.toFixed(1)}–${loadavg()[0].toFixed(1)}: ` +
        `${TXS} iris transactions per node in alternating batches of ${BATCH}\n\n` +
        '| entry | txs | wall median ms (p10–p90) | node CPU ms per tx |\n| --- | --- | ---: | ---: |',
    )
    for (const n of nodes) {
      for (const [part, label] of [`1–${EARLY}`, `${EARLY + 1}–${TXS}`].entries()) {
        const w = n.walls[part]
        if (w.length === 0) continue
        console.log(
          `| ${n.entry} | ${label} | ${f(pct(w, 0.5))} (${f(pct(w, 0.1))}–${f(pct(w, 0.9))}) | ${f(n.cpu[part][0] / n.cpu[part][1])} |`,
        )
      }
    }
  } finally {
    for (const n of nodes) await stop(n)
  }
}

await main()
