// npm run soak (issue 15): a devnet child process mines N blocks at an interval while transfers, contract
// calls and inferences (mined and eth_call) flow in; RSS and the datadir's size are sampled; the node is
// killed with SIGKILL every K blocks and restarted, and no acknowledged transaction may be lost (the pool's
// journal keeps the pending ones); `--metrics` is scraped throughout and every family must move; the chain is
// exported and imported into a fresh datadir, a piece at each kill -9 and the rest at the end (import-check.ts),
// and must reach the same head and state root.
//
//   npm run soak                         full: 10,000 blocks at 1 s, kill -9 every 1,000 (~3 h)
//   npm run soak -- --short              CI: 200 blocks at 0.3 s, kill -9 every 70 (~2-3 min)
//   npm run soak -- --blocks 2000 --interval 0.3 --kill-every 500
// (LATTICE_SOAK_SHORT=1 is --short.) Exit code 1 on any failure, with the summary table printed either way.
import '../../src/polyfills.ts'
import type { ChildProcess } from 'node:child_process'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { exampleModels } from '../../examples/models/index.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { createEmbeddedModelStore, type EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { freePort } from '../helpers/devnet-process.ts'
import { abiTensor, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import { ImportCheck } from './import-check.ts'
import { FAMILIES, noteMoves, processBaseline, type Scrape, scrape } from './metrics.ts'

const REPO = new URL('../../', import.meta.url).pathname
const BIN = join(REPO, 'bin/lattice.js')
/** Runtime code: storage slot 0 += 1 (a contract call that writes state). */
const COUNTER_RUNTIME = '60005460010160005500'
const RSS_LIMIT = 1.5 * 2 ** 30

const { values: flags } = parseArgs({
  options: {
    short: { type: 'boolean', default: process.env.LATTICE_SOAK_SHORT === '1' },
    blocks: { type: 'string' },
    interval: { type: 'string' },
    'kill-every': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})
const SHORT = flags.short === true
const BLOCKS = Number(flags.blocks ?? (SHORT ? 200 : 10_000))
const INTERVAL = Number(flags.interval ?? (SHORT ? 0.3 : 1))
const KILL_EVERY = Number(flags['kill-every'] ?? (SHORT ? 70 : 1000))
if (!(BLOCKS > 0 && INTERVAL > 0 && KILL_EVERY > 0)) throw new TypeError('--blocks, --interval, --kill-every: > 0')

let keep = flags.keep === true
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`

let url = ''
async function call(method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(30_000),
  })
  return res.json()
}
const tryCall = (method: string, params: unknown[] = []) => call(method, params).catch(() => undefined)

/** VmRSS and its anonymous and file-backed parts (LevelDB mmaps its tables: page cache, growing with the datadir). */
function rssOf(pid: number): { bytes: number; anon: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024
    return { bytes: kB('VmRSS'), anon: kB('RssAnon'), file: kB('RssFile') }
  } catch {
    return { bytes: 0, anon: 0, file: 0 }
  }
}

function duBytes(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0])
  } catch {
    return 0
  }
}

// ------------------------------------------------------------------ the node

let child: ChildProcess | undefined
let output = ''
/** When the running node process was spawned, and its index (0 for the first): what each RSS sample is charged to. */
let spawnedAt = 0
let spawned = -1

async function startNode(datadir: string, port: number, metricsPort: number): Promise<number> {
  const t0 = performance.now()
  const args = ['devnet', '--port', String(port), '--datadir', datadir, '--no-examples', '--ipfs-port', '0']
  args.push('--block-time', String(INTERVAL), '--metrics', '--metrics.port', String(metricsPort))
  output = ''
  // LATTICE_SOAK_NODE_ARGS: node flags for the devnet child only (--inspect=127.0.0.1:9231 for bench/heap-probe.ts)
  const nodeArgs = (process.env.LATTICE_SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const c = spawn(process.execPath, [...nodeArgs, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  child = c
  // from the spawn, not from when it answers: samples of a starting process are its own (before, the ~20 s of a
  // restart were charged to the killed process, at its last head, as if its RSS had fallen there)
  spawnedAt = performance.now()
  spawned++
  const keep = (d: Buffer) => {
    output = (output + d).slice(-20_000)
  }
  c.stdout?.on('data', keep)
  c.stderr?.on('data', keep)
  const deadline = Date.now() + 180_000
  while (Date.now() < deadline) {
    if (c.exitCode !== null) throw new Error(`the devnet exited at start:\n${output}`)
    if ((await tryCall('eth_blockNumber'))?.result) return performance.now() - t0
    await sleep(100)
  }
  c.kill('SIGKILL')
  throw new Error(`the devnet did not start:\n${output}`)
}

/** Stop the node; ms it took, or undefined when SIGTERM did not stop it within 30 s (then it is killed). */
async function stopNode(signal: NodeJS.Signals): Promise<number | undefined> {
  const c = child
  if (!c || c.exitCode !== null || c.signalCode !== null) return 0
  const exited = new Promise((r) => c.once('exit', r))
  const t0 = performance.now()
  c.kill(signal)
  const inTime = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)])
  if (inTime) return performance.now() - t0
  c.kill('SIGKILL')
  await exited
  return undefined
}

async function waitReceipt(hash: string, ms = 60_000): Promise<any> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const r = (await tryCall('eth_getTransactionReceipt', [hash]))?.result
    if (r) return r
    await sleep(100)
  }
  throw new Error(`no receipt for ${hash} after ${ms} ms`)
}

async function head(): Promise<number> {
  const r = await tryCall('eth_blockNumber')
  return r?.result ? Number(r.result) : -1
}

/** The IPFS address the running devnet printed (`IPFS:` line of its startup); waits for the line. */
async function ipfsAddress(): Promise<string> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const m = /IPFS:\s+(\S+)/.exec(output)
    if (m?.[1]) return m[1]
    await sleep(100)
  }
  throw new Error(`the devnet printed no IPFS address:\n${output}`)
}

/**
 * A second IPFS node beside the devnet: once per node process it connects (lattice_p2p_peers moves 0 -> 1) and
 * fetches the model package's root block from the devnet over bitswap.
 */
let peer: EmbeddedModelStore | undefined
let peerFetches = 0
let peerError: string | undefined
async function peerFetch(cid: string): Promise<void> {
  const addr = await ipfsAddress()
  await peer?.network?.dial(addr, { signal: AbortSignal.timeout(30_000) })
  const bytes = await peer?.network?.getBlock(cid, { signal: AbortSignal.timeout(30_000) })
  if (bytes && bytes.length > 0) peerFetches++
}

// ------------------------------------------------------------------ the run

type Kind = 'transfer' | 'call' | 'inference'
const acked = new Map<string, Kind>()
/** Acknowledged transactions not seen mined yet. */
const unresolved = new Set<string>()
const failed: string[] = []
const lost: string[] = []
const restarts: number[] = []
/** RSS samples; `process` counts the node processes (each kill -9 starts another, whose RSS starts over). */
const rss: { head: number; bytes: number; anon: number; file: number; sinceStart: number; process: number }[] = []
const disk: { head: number; bytes: number }[] = []
const moved = new Set<string>()
let rpcPathInferences = 0

async function send(from: string, tx: Record<string, string>, kind: Kind): Promise<void> {
  const r = await tryCall('eth_sendTransaction', [{ from, ...tx }])
  if (typeof r?.result !== 'string') return // not acknowledged (the node may be down): not the client's loss
  acked.set(r.result, kind)
  unresolved.add(r.result)
}

/** Receipts of the unresolved transactions; mined ones leave the set (a failed one is recorded). */
async function resolveMined(): Promise<void> {
  for (const hash of [...unresolved]) {
    const r = (await tryCall('eth_getTransactionReceipt', [hash]))?.result
    if (!r) continue
    unresolved.delete(hash)
    if (r.status !== '0x1') failed.push(`${acked.get(hash)} ${hash}`)
  }
}

async function main(): Promise<number> {
  const modeName = SHORT ? 'short' : flags.blocks ? 'custom' : 'full'
  console.log(`soak (${modeName}): ${BLOCKS} blocks at ${INTERVAL}s, kill -9 every ${KILL_EVERY}`)
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-soak-'))
  const copy = mkdtempSync(join(tmpdir(), 'lattice-soak-import-'))
  const genesisOf = (dir: string) =>
    existsSync(join(dir, 'genesis.json')) ? join(dir, 'genesis.json') : join(REPO, 'genesis/devnet.json')
  const importCheck = new ImportCheck(BIN, copy, genesisOf)
  const peerDir = mkdtempSync(join(tmpdir(), 'lattice-soak-peer-'))
  peer = await createEmbeddedModelStore({ repo: peerDir, network: {} })
  const port = await freePort()
  const metricsPort = await freePort()
  url = `http://127.0.0.1:${port}`
  const t0 = performance.now()
  const failures: string[] = []
  let lastHead = 0
  const sampler = setInterval(() => {
    if (!child?.pid || child.exitCode !== null) return
    const r = rssOf(child.pid)
    // a process that is exiting reads 0: not a sample
    if (r.bytes > 0) rss.push({ head: lastHead, ...r, sinceStart: performance.now() - spawnedAt, process: spawned })
  }, 1000)
  try {
    restarts.push(await startNode(datadir, port, metricsPort))
    const accounts: string[] = (await call('eth_accounts')).result
    const deployer = accounts[0] as string
    // three senders per tick, a different three for each of the (up to) three ticks in flight: a sender never
    // has two eth_sendTransactions racing for one nonce
    const senders = (tick: number, i: number) => accounts[1 + 3 * (tick % 3) + i] as string
    // the model and the contract
    const iris = exampleModels({ only: ['iris'] })[0]
    if (!iris) throw new Error('the iris example model is missing')
    const dep = await call('lattice_deployModel', [
      { name: 'soak-iris', model: Buffer.from(iris.bytes).toString('base64'), from: deployer },
    ])
    const modelId = dep?.result?.modelId as string
    if (!modelId) throw new Error(`could not deploy the model: ${JSON.stringify(dep)}`)
    const modelCid = dep.result.cid as string
    const n = COUNTER_RUNTIME.length / 2
    const init = `0x${(0x5f + n).toString(16)}${COUNTER_RUNTIME}60005260${n.toString(16).padStart(2, '0')}60${(32 - n).toString(16).padStart(2, '0')}f3`
    const created = await call('eth_sendTransaction', [{ from: deployer, data: init }])
    const counter = (await waitReceipt(created.result)).contractAddress as string
    const input = (i: number) =>
      inferenceAbi.encodeFunctionData('infer', [
        modelId,
        [abiTensor(tensorFromValues('x', DType.float32, [1, 4], [5 + (i % 3), 3.1, 1 + (i % 5), 0.2 + (i % 2)]))],
      ])

    // the registration is mined (interval mining): inference transactions sent before it would revert
    for (let i = 0; i < 600 && !(await tryCall('eth_call', [{ to: INFERENCE, data: input(0) }, 'latest']))?.result; i++)
      await sleep(100)
    // gas for the call refused out of gas: 2,000 under what the inference needs (its gas is static per shape, and
    // calldata differs by a few dozen gas between ticks), so the precompile always runs short, whatever the schedule
    const needed = BigInt((await call('eth_estimateGas', [{ to: INFERENCE, data: input(0) }])).result as string)
    const shortGas = `0x${(needed - 2000n).toString(16)}`
    let segmentStart: Scrape | undefined = processBaseline(await scrape(metricsPort))
    const noteNow = async () => {
      const now = await scrape(metricsPort)
      if (segmentStart && now) noteMoves(moved, segmentStart, now)
    }
    let nextKill = KILL_EVERY
    let nextReport = 500
    let tick = 0
    const inflight: Promise<unknown>[] = []
    lastHead = await head()
    while (lastHead < BLOCKS) {
      const started = performance.now()
      tick++
      // a tick's requests may take longer than the interval on a loaded machine: up to 3 ticks overlap
      inflight.push(
        Promise.all([
          // the pool holds them until the next block: a scrape now sees lattice_txpool_transactions move
          Promise.all([
            send(senders(tick, 0), { to: deployer, value: '0x1' }, 'transfer'),
            send(senders(tick, 1), { to: counter, data: '0x' }, 'call'),
            send(senders(tick, 2), { to: INFERENCE, data: input(tick) }, 'inference'),
          ]).then(() => (tick % 3 === 0 ? noteNow() : undefined)),
          // the RPC path: an eth_call of the model, one refused out of gas, one bad request
          tryCall('eth_call', [{ to: INFERENCE, data: input(tick + 1) }, 'latest']).then((r) => {
            if (r?.result) rpcPathInferences++
          }),
          tryCall('eth_call', [{ to: INFERENCE, data: input(tick), gas: shortGas }, 'latest']),
          tryCall('eth_getBlockByNumber', ['not-a-block', false]),
        ]),
      )
      if (inflight.length >= 3) await inflight.shift()
      lastHead = Math.max(lastHead, await head())
      // the peer connects to each node process a little after its first scrape
      if (tick % 10 === 5 && peer?.network?.peerCount() === 0) {
        await peerFetch(modelCid).catch((err) => {
          peerError = String(err)
        })
      }
      if (tick % 10 === 0) {
        disk.push({ head: lastHead, bytes: duBytes(datadir) })
        if (lastHead >= nextReport) {
          nextReport += 500
          console.log(
            `  block ${lastHead}: RSS ${mib(rss.at(-1)?.bytes ?? 0)}, datadir ${mib(disk.at(-1)?.bytes ?? 0)}`,
          )
        }
        await resolveMined()
        await noteNow()
      }
      if (lastHead >= nextKill && lastHead < BLOCKS) {
        nextKill += KILL_EVERY
        await Promise.all(inflight.splice(0))
        await resolveMined()
        const pendingBefore = unresolved.size
        await stopNode('SIGKILL')
        // the crashed datadir, copied before the node reopens it: exported and imported in the background
        importCheck.snapshot(datadir)
        const ms = await startNode(datadir, port, metricsPort)
        restarts.push(ms)
        // every acknowledged transaction is mined or still pending after the kill
        for (const hash of unresolved) {
          if (!(await tryCall('eth_getTransactionByHash', [hash]))?.result) lost.push(`${acked.get(hash)} ${hash}`)
        }
        console.log(
          `  block ${lastHead}: kill -9 with ${pendingBefore} acknowledged transactions unmined; restarted in ${ms.toFixed(0)} ms; ${lost.length} lost so far`,
        )
        segmentStart = processBaseline(await scrape(metricsPort))
      }
      const left = INTERVAL * 1000 - (performance.now() - started)
      if (left > 0) await sleep(left)
    }

    // let the pool drain, then judge every acknowledged transaction
    await Promise.all(inflight.splice(0))
    const drainUntil = Date.now() + 120_000
    while (Date.now() < drainUntil) {
      await resolveMined()
      if (unresolved.size === 0) break
      await sleep(500)
    }
    for (const hash of unresolved) lost.push(`${acked.get(hash)} ${hash} (never mined)`)
    const last = await scrape(metricsPort)
    if (segmentStart && last) noteMoves(moved, segmentStart, last)

    // export / import: the same head and state root
    const finalHead = await head()
    const block = (await call('eth_getBlockByNumber', [`0x${finalHead.toString(16)}`, false])).result
    // a node shutting down frees memory: not a sample of the run
    clearInterval(sampler)
    // LATTICE_SOAK_RSS_OUT: the RSS samples as JSON, for a closer look
    if (process.env.LATTICE_SOAK_RSS_OUT) writeFileSync(process.env.LATTICE_SOAK_RSS_OUT, JSON.stringify(rss))
    const termMs = await stopNode('SIGTERM')
    if (termMs === undefined) failures.push('the node did not exit within 30 s of SIGTERM (killed)')
    const te = performance.now()
    const imported = await importCheck.finish(datadir, finalHead)
    const importMs = performance.now() - te
    const same = imported.head?.hash === block.hash && imported.stateRoot === block.stateRoot

    // ---------------------------------------------------------------- judgement and summary
    const count = (k: Kind) => [...acked.values()].filter((v) => v === k).length
    const maxRss = Math.max(...rss.map((s) => s.bytes))
    const slope = rssSlope()
    const across = crossProcessSlope()
    const notMoved = FAMILIES.filter((f) => !moved.has(f))
    if (lost.length) failures.push(`${lost.length} acknowledged transactions lost: ${lost.slice(0, 5).join(', ')}`)
    if (failed.length) failures.push(`${failed.length} transactions failed: ${failed.slice(0, 5).join(', ')}`)
    if (maxRss > RSS_LIMIT) failures.push(`RSS reached ${mib(maxRss)} (limit ${mib(RSS_LIMIT)})`)
    if (!same)
      failures.push(
        `import ended at ${imported.head?.number} ${imported.head?.hash} root ${imported.stateRoot}, the node at ${finalHead} ${block.hash} root ${block.stateRoot}`,
      )
    if (notMoved.length) failures.push(`metric families that never moved: ${notMoved.join(', ')}`)
    if (peerFetches === 0) failures.push(`the IPFS peer never fetched the model package from the devnet: ${peerError}`)
    // no RSS growth over the last half (full mode: the last 5k blocks). With a kill -9 every K blocks, growth is
    // judged from one process to the next: within a process RSS rises while the node's caches fill towards their
    // bounds (docs/rpc.md "Soak": ~3-4k blocks of this workload), and a process lives K blocks. A single process
    // (no kill in the last half) is judged within itself, where a plateau is what passes.
    const judged = across ?? slope
    if (!SHORT && BLOCKS >= 3000 && judged !== undefined && judged > 8)
      failures.push(
        `RSS grows ${judged.toFixed(1)} MiB per 1k blocks over the last half (${across !== undefined ? 'from one process to the next' : 'within the process'})`,
      )
    const rows: [string, string][] = [
      ['blocks', `${finalHead} at ${INTERVAL}s (${((performance.now() - t0) / 60_000).toFixed(1)} min in all)`],
      [
        'acknowledged txs',
        `${acked.size}: ${count('transfer')} transfers, ${count('call')} contract calls, ${count('inference')} inferences`,
      ],
      ['eth_call inferences', String(rpcPathInferences)],
      ['IPFS peer', `${peerFetches} model fetches over bitswap, one per node process`],
      ['lost / failed txs', `${lost.length} / ${failed.length}`],
      ['kill -9 restarts', `${restarts.length - 1}; start ${restarts.map((m) => (m / 1000).toFixed(1)).join(', ')} s`],
      ['RSS', `first ${mib(rss[0]?.bytes ?? 0)}, max ${mib(maxRss)}, last ${mib(rss.at(-1)?.bytes ?? 0)}`],
      [
        'RSS slope, last half',
        slope === undefined
          ? 'n/a'
          : `${slope.toFixed(1)} MiB per 1k blocks within a process (after its first minute; anonymous ${rssSlope('anon')?.toFixed(1)}, file-backed ${rssSlope('file')?.toFixed(1)})`,
      ],
      [
        'RSS across processes',
        across === undefined
          ? 'n/a (fewer than 3 node processes in the last half)'
          : `${across.toFixed(1)} MiB per 1k blocks (each process's 90th-percentile RSS, last half)`,
      ],
      [
        'datadir',
        `${mib(disk[0]?.bytes ?? 0)} at block ${disk[0]?.head} -> ${mib(disk.at(-1)?.bytes ?? 0)} at ${disk.at(-1)?.head}`,
      ],
      ['metrics moved', `${moved.size}/${FAMILIES.length}${notMoved.length ? `; not: ${notMoved.join(', ')}` : ''}`],
      ['SIGTERM at the end', termMs === undefined ? 'no exit in 30 s' : `exited in ${termMs.toFixed(0)} ms`],
      [
        'export/import',
        `${imported.imported} blocks imported (${importCheck.backgroundImported} of them in the background at the kill -9s, ${(importCheck.backgroundMs / 1000).toFixed(1)} s), ${imported.imported - importCheck.backgroundImported} at the end in ${(importMs / 1000).toFixed(1)} s; head and state root ${same ? 'equal' : 'DIFFER'}`,
      ],
      ['result', failures.length ? `FAIL (${failures.length})` : 'ok'],
    ]
    const w = Math.max(...rows.map(([k]) => k.length))
    console.log(`\n${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}`)
    for (const f of failures) console.log(`FAIL: ${f}`)
    keep ||= failures.length > 0 // the datadirs of a failed run are evidence
    return failures.length ? 1 : 0
  } catch (err) {
    keep = true // a step that threw (export, import, a restart) left its evidence in the datadirs
    throw err
  } finally {
    clearInterval(sampler)
    await stopNode('SIGKILL')
    await peer?.close()
    rmSync(peerDir, { recursive: true, force: true })
    if (!keep) {
      rmSync(datadir, { recursive: true, force: true })
      rmSync(copy, { recursive: true, force: true })
    } else console.log(`kept ${datadir} and ${copy}`)
  }
}

/**
 * Least-squares slope of RSS against the head, MiB per 1,000 blocks, over the run's second half: within each
 * node process (after its first minute), pooled, since every kill -9 starts RSS over.
 */
function rssSlope(part: 'bytes' | 'anon' | 'file' = 'bytes'): number | undefined {
  const pts = rss.filter((s) => s.head >= BLOCKS / 2 && s.sinceStart > 60_000)
  if (pts.length < 10) return undefined
  const byProcess = new Map<number, typeof pts>()
  for (const p of pts) byProcess.set(p.process, [...(byProcess.get(p.process) ?? []), p])
  let num = 0
  let den = 0
  for (const group of byProcess.values()) {
    const mx = group.reduce((a, p) => a + p.head, 0) / group.length
    const my = group.reduce((a, p) => a + p[part], 0) / group.length
    for (const p of group) {
      num += (p.head - mx) * (p[part] - my)
      den += (p.head - mx) ** 2
    }
  }
  return den === 0 ? undefined : ((num / den) * 1000) / 2 ** 20
}

/**
 * Slope of each node process's 90th-percentile RSS (after its first minute) against the head, MiB per 1,000
 * blocks, over the processes of the run's second half: memory that carries from one process to the next, which
 * a kill -9 does not reset (state the node loads at start, anything that grows with the chain). Undefined with
 * fewer than 3 such processes.
 */
function crossProcessSlope(): number | undefined {
  const byProcess = new Map<number, typeof rss>()
  for (const p of rss) {
    if (p.head < BLOCKS / 2 || p.sinceStart <= 60_000) continue
    byProcess.set(p.process, [...(byProcess.get(p.process) ?? []), p])
  }
  const points = [...byProcess.values()]
    .filter((g) => g.length >= 5)
    .map((g) => {
      const sorted = g.map((p) => p.bytes).sort((a, b) => a - b)
      return { head: g.reduce((a, p) => a + p.head, 0) / g.length, bytes: sorted[Math.floor(sorted.length * 0.9)] ?? 0 }
    })
  if (points.length < 3) return undefined
  const mx = points.reduce((a, p) => a + p.head, 0) / points.length
  const my = points.reduce((a, p) => a + p.bytes, 0) / points.length
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.head - mx) * (p.bytes - my)
    den += (p.head - mx) ** 2
  }
  return den === 0 ? undefined : ((num / den) * 1000) / 2 ** 20
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err)
    console.error(output.slice(-4000))
    child?.kill('SIGKILL')
    process.exit(1)
  },
)
