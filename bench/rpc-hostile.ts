/**
 * Hostile JSON-RPC bodies (issue 15) against `lattice devnet` and anvil, measured in the same run: the answer
 * each gets, its time (median of 3), and the worst eth_chainId latency of another client meanwhile.
 *
 *   npm run bench:rpc-hostile
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const ANVIL = join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil')
const BIN = new URL('../bin/lattice.js', import.meta.url).pathname
const VALID = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`

const BODIES: [string, string][] = [
  ['[[]]', '[[]]'],
  ['[[valid]]', `[[${VALID}]]`],
  ['[[1]]', '[[1]]'],
  ['[valid,[]]', `[${VALID},[]]`],
  ['1M levels of [ (2 MB)', nested(1_000_000)],
  ['5.2 MB of nested [', nested(2_600_000)],
]

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function waitUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the node exited`)
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: VALID })
      if (r.ok) return
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} did not start`)
}

async function post(url: string, body: string): Promise<{ ms: number; answer: string }> {
  const t0 = performance.now()
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  }).catch((err: Error) => err)
  if (res instanceof Error) return { ms: performance.now() - t0, answer: `no answer (${res.name})` }
  const text = await res.text()
  const ms = performance.now() - t0
  let answer = `HTTP ${res.status} ${text.slice(0, 60)}`
  try {
    const j = JSON.parse(text)
    const codes = (Array.isArray(j) ? j : [j]).map((r) => (r.error ? r.error.code : 'ok'))
    answer = Array.isArray(j) ? `[${codes.join(',')}]` : String(codes[0])
  } catch {
    if (text === '') answer = `HTTP ${res.status} empty`
  }
  return { ms, answer }
}

async function measure(url: string): Promise<string[]> {
  const rows: string[] = []
  for (const [label, body] of BODIES) {
    // three rounds, the median answer time and the worst eth_chainId of all (the first round warms the JIT)
    const times: number[] = []
    let answer = ''
    let worst = 0
    for (let round = 0; round < 3; round++) {
      const r = await once(url, body)
      times.push(r.ms)
      answer = r.answer
      worst = Math.max(worst, r.worst)
    }
    times.sort((a, b) => a - b)
    rows.push(`${label}|${answer}|${(times[1] as number).toFixed(0)}|${worst.toFixed(0)}`)
  }
  return rows
}

async function once(url: string, body: string): Promise<{ ms: number; answer: string; worst: number }> {
  {
    let stop = false
    let worst = 0
    const pinger = (async () => {
      while (!stop) {
        const t0 = performance.now()
        await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: VALID })
        worst = Math.max(worst, performance.now() - t0)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    const r = await post(url, body)
    stop = true
    await pinger
    return { ...r, worst }
  }
}

async function main(): Promise<void> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-bench-hostile-'))
  const [lp, ap] = [await freePort(), await freePort()]
  const lattice = spawn(
    process.execPath,
    [BIN, 'devnet', '--port', String(lp), '--datadir', datadir, '--no-examples', '--no-explorer'],
    { stdio: 'ignore' },
  )
  const anvil = spawn(ANVIL, ['--port', String(ap), '--silent'], { stdio: 'ignore' })
  try {
    await waitUp(`http://127.0.0.1:${lp}`, lattice)
    await waitUp(`http://127.0.0.1:${ap}`, anvil)
    const ours = await measure(`http://127.0.0.1:${lp}`)
    const theirs = await measure(`http://127.0.0.1:${ap}`)
    console.log('| body | lattice answer | ms | eth_chainId worst ms | anvil answer | ms | eth_chainId worst ms |')
    console.log('| --- | --- | --- | --- | --- | --- | --- |')
    for (let i = 0; i < ours.length; i++) {
      const [label, a, ms, w] = (ours[i] as string).split('|')
      const [, b, ms2, w2] = (theirs[i] as string).split('|')
      console.log(`| ${label} | ${a} | ${ms} | ${w} | ${b} | ${ms2} | ${w2} |`)
    }
  } finally {
    lattice.kill('SIGKILL')
    anvil.kill('SIGKILL')
    rmSync(datadir, { recursive: true, force: true })
  }
}

await main()
