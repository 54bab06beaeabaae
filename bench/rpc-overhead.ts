/**
 * Per-request JSON-RPC overhead (issue 17): sequential eth_chainId against the floors (a bare node:http server, one
 * answering Lattice's exact bytes, and a minimal HTTP/1.1 parser on node:net), one or more `lattice devnet` builds
 * and anvil, all running at once and measured in interleaved blocks (the order rotates
 * each round), so load swings on a shared machine hit every target alike. The client is the one bench/devnet.ts
 * uses: undici `fetch` with keep-alive, a fresh JSON body per call. Per target: wall ms per call and the
 * server process's CPU ms per call (/proc/<pid>/stat, user + system, and user alone), median over the rounds with the spread,
 * and the ratios to the first floor and to anvil.
 *
 *   node --import tsx bench/rpc-overhead.ts [-- --rounds 8 --calls 1000 --port-base 29200
 *     --lattice now=dist --lattice before=/tmp/clone/dist/cli/main.js --no-anvil --floors http,exact,net]
 *
 * `--lattice name=dist` (the default, `lattice=dist`) compiles this tree's src/ into .tmp-bench-dist-<port base>/
 * as bench/devnet.ts does; any other value is the path of a compiled `cli/main.js` (an A/B "before": a clone of
 * an earlier commit, built with `tsc -p tsconfig.build.json --outDir <clone>/dist`).
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { compileDist, processCpu, rpc, stopChild, until } from './helpers.ts'
import { median } from './stats.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    calls: { type: 'string', default: '1000' },
    'port-base': { type: 'string', default: '29200' },
    lattice: { type: 'string', multiple: true },
    'no-anvil': { type: 'boolean', default: false },
    floors: { type: 'string', default: 'http,exact,net' },
  },
})
const ROUNDS = Number(values.rounds)
const CALLS = Number(values.calls)
const PORT_BASE = Number(values['port-base'])
const require = createRequire(import.meta.url)
const ANVIL = join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil')
const ROOT = new URL('..', import.meta.url).pathname

/** What a minimal JSON-RPC server costs per request on this machine: read, parse, answer with a known length. */
const BARE_SERVER = `
const http = require('node:http')
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const msg = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    const text = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: '0xa110' })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
  })
})
server.listen(Number(process.argv[1]), '127.0.0.1')
`

/**
 * The floor node:http sets for Lattice's exact answer: the same status line, header names, values and order as
 * `lattice devnet` sends for eth_chainId (CORS, content-type, content-length; Node adds Date, Connection,
 * Keep-Alive), one writeHead with a flat list, the body read with data/end listeners.
 */
const EXACT_SERVER = `
const http = require('node:http')
const HEAD = ['Access-Control-Allow-Origin', '*', 'Access-Control-Allow-Headers', '*',
  'Access-Control-Allow-Methods', 'POST, GET, OPTIONS', 'content-type', 'application/json']
const server = http.createServer((req, res) => {
  let body
  req.on('data', (c) => { body = body ? Buffer.concat([body, c]) : c })
  req.on('end', () => {
    const msg = JSON.parse(body.toString('utf8'))
    const text = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: '0xa110' })
    res.writeHead(200, [...HEAD, 'content-length', String(Buffer.byteLength(text))]).end(text)
  })
})
server.listen(Number(process.argv[1]), '127.0.0.1')
`

/**
 * Below node:http: a net.Server with a minimal HTTP/1.1 keep-alive parser (Content-Length bodies only; no chunked
 * bodies, Expect, upgrades or limits, so not a server to ship) answering the same bytes as Lattice, Date header
 * cached per second and a 5 s idle timeout as Node's. What is left is the socket, the event loop and JSON.
 */
const NET_SERVER = `
const net = require('node:net')
const HEAD = 'HTTP/1.1 200 OK\\r\\nAccess-Control-Allow-Origin: *\\r\\nAccess-Control-Allow-Headers: *\\r\\n' +
  'Access-Control-Allow-Methods: POST, GET, OPTIONS\\r\\ncontent-type: application/json\\r\\ncontent-length: '
let date = ''
let dateAt = 0
const server = net.createServer({ noDelay: true }, (sock) => {
  let buf = null
  sock.setTimeout(5000, () => sock.destroy())
  sock.on('error', () => {})
  sock.on('data', (chunk) => {
    buf = buf === null ? chunk : Buffer.concat([buf, chunk])
    while (buf !== null) {
      const end = buf.indexOf('\\r\\n\\r\\n')
      if (end < 0) return
      const m = /\\r\\ncontent-length: *(\\d+)/i.exec(buf.latin1Slice(0, end))
      const stop = end + 4 + (m ? Number(m[1]) : 0)
      if (buf.length < stop) return
      const msg = JSON.parse(buf.utf8Slice(end + 4, stop))
      buf = buf.length === stop ? null : buf.subarray(stop)
      const text = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: '0xa110' })
      const now = Date.now()
      if (now - dateAt >= 1000) {
        date = new Date(now).toUTCString()
        dateAt = now - (now % 1000)
      }
      sock.write(HEAD + Buffer.byteLength(text) + '\\r\\nDate: ' + date +
        '\\r\\nConnection: keep-alive\\r\\nKeep-Alive: timeout=5\\r\\n\\r\\n' + text)
    }
  })
})
server.listen(Number(process.argv[1]), '127.0.0.1')
`

/** The bare servers by target name: `--floors` picks among them. */
const FLOORS: Record<string, { name: string; script: string }> = {
  http: { name: 'bare node:http', script: BARE_SERVER },
  exact: { name: 'node:http exact bytes', script: EXACT_SERVER },
  net: { name: 'node:net minimal', script: NET_SERVER },
}

interface Target {
  name: string
  url: string
  child: ChildProcess
  datadir?: string
}

function start(name: string, port: number, entry?: string): Target {
  const url = `http://127.0.0.1:${port}`
  const floor = Object.values(FLOORS).find((f) => f.name === name)
  if (floor)
    return { name, url, child: spawn(process.execPath, ['-e', floor.script, String(port)], { stdio: 'ignore' }) }
  if (name === 'anvil')
    return { name, url, child: spawn(ANVIL, ['--port', String(port), '--silent'], { stdio: 'ignore' }) }
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-rpc-overhead-'))
  const args = [entry as string, 'devnet', '--port', String(port), '--datadir', datadir]
  return { name, url, child: spawn(process.execPath, args, { stdio: 'ignore' }), datadir }
}

async function ready(t: Target): Promise<void> {
  await until(
    t.name,
    async () => {
      if (t.child.exitCode !== null) throw new Error(`${t.name} exited`)
      return rpc(t.url, 'eth_chainId')
    },
    180_000,
    50,
  )
  // the devnet deploys its example models after it starts answering: measure once that is over
  const dir = t.datadir
  if (dir) await until(`${t.name} examples`, async () => existsSync(join(dir, 'examples.json')), 180_000, 50)
}

async function stop(t: Target): Promise<void> {
  await stopChild(t.child, t.datadir)
}

/** CPU ms the process has used so far: [user, system] (utime, stime; clock ticks of 10 ms). */
function cpuMs(t: Target): [number, number] {
  const { user, system } = processCpu(t.child.pid as number)
  return [user, system]
}

async function block(t: Target): Promise<{ wall: number; cpu: number; user: number }> {
  const [u0, s0] = cpuMs(t)
  const t0 = performance.now()
  for (let i = 0; i < CALLS; i++) await rpc(t.url, 'eth_chainId')
  const wall = (performance.now() - t0) / CALLS
  const [u1, s1] = cpuMs(t)
  return { wall, cpu: (u1 - u0 + s1 - s0) / CALLS, user: (u1 - u0) / CALLS }
}

const f3 = (x: number) => x.toFixed(3)
const cell = (xs: number[]) => `${f3(median(xs))} (${f3(Math.min(...xs))}–${f3(Math.max(...xs))})`

async function main(): Promise<void> {
  const lattices = (values.lattice ?? ['lattice=dist']).map((spec) => {
    const at = spec.indexOf('=')
    if (at <= 0) throw new Error(`--lattice name=dist|path/to/cli/main.js, got ${spec}`)
    const path = spec.slice(at + 1)
    return { name: spec.slice(0, at), entry: path === 'dist' ? compileDist(ROOT, PORT_BASE) : path }
  })
  const floors = (values.floors as string).split(',').map((f) => {
    const known = FLOORS[f]
    if (!known) throw new Error(`--floors: one or more of ${Object.keys(FLOORS).join(',')}, got ${f}`)
    return known.name
  })
  if (floors.length === 0) throw new Error('--floors: at least one (the ratios are to the first)')
  let port = PORT_BASE
  const targets: Target[] = floors.map((name) => start(name, port++))
  for (const l of lattices) targets.push(start(l.name, port++, l.entry))
  if (!values['no-anvil']) targets.push(start('anvil', port++))
  const wall = new Map<string, number[]>(targets.map((t) => [t.name, []]))
  const cpu = new Map<string, number[]>(targets.map((t) => [t.name, []]))
  const user = new Map<string, number[]>(targets.map((t) => [t.name, []]))
  try {
    for (const t of targets) await ready(t)
    // warm-up: JIT, keep-alive sockets, the devnet's first-request work
    for (const t of targets) for (let i = 0; i < 300; i++) await rpc(t.url, 'eth_chainId')
    for (let round = 0; round < ROUNDS; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length])
      for (const t of order) {
        const r = await block(t)
        wall.get(t.name)?.push(r.wall)
        cpu.get(t.name)?.push(r.cpu)
        user.get(t.name)?.push(r.user)
      }
      process.stderr.write(
        `round ${round + 1}/${ROUNDS}: ${targets.map((t) => `${t.name} ${f3(wall.get(t.name)?.at(-1) ?? 0)}/${f3(cpu.get(t.name)?.at(-1) ?? 0)}`).join(', ')}\n`,
      )
    }
  } finally {
    await Promise.all(targets.map(stop))
  }
  const bare = targets[0].name
  const anvil = values['no-anvil'] ? undefined : 'anvil'
  console.log(
    `\nnode ${process.version}, ${new Date().toISOString()}, ${ROUNDS} rounds of ${CALLS} sequential eth_chainId per target`,
  )
  console.log(
    `| target | wall ms/call median (spread) | server CPU ms/call median (spread) | of it user | wall vs bare | CPU vs bare |${anvil ? ' wall vs anvil (per round: median, spread) | CPU vs anvil |' : ''}`,
  )
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: |${anvil ? ' ---: | ---: |' : ''}`)
  for (const t of targets) {
    const w = wall.get(t.name) as number[]
    const c = cpu.get(t.name) as number[]
    const ratio = (xs: number[], ys: number[]) => (median(xs) / median(ys)).toFixed(2)
    let row = `| ${t.name} | ${cell(w)} | ${cell(c)} | ${f3(median(user.get(t.name) as number[]))} | ${ratio(w, wall.get(bare) as number[])}x | ${ratio(c, cpu.get(bare) as number[])}x |`
    if (anvil) {
      const aw = wall.get(anvil) as number[]
      const paired = w.map((x, i) => x / (aw[i] as number))
      row += ` ${ratio(w, aw)}x (${median(paired).toFixed(2)}x, ${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)}) | ${ratio(c, cpu.get(anvil) as number[])}x |`
    }
    console.log(row)
  }
}

await main()
