// What the benches that drive nodes over HTTP share: a JSON-RPC call, a poll with a deadline, a child process's
// CPU time from /proc, the compiled devnet they run (as `lattice` runs after `npm run build`), and stopping it.
import type { ChildProcess } from 'node:child_process'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

let nextId = 1
/**
 * One JSON-RPC request; a JSON-RPC error throws with the method's name. A request sent on a kept-alive socket that
 * the server closed for idleness in the same instant fails with ECONNRESET before the server read it (likeliest in
 * an in-process bench, whose synchronous runs hold both the client's and the server's idle timers): sent again once.
 */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const init = {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  }
  const res = await fetch(url, init).catch((err: { cause?: { code?: string } }) => {
    if (err.cause?.code !== 'ECONNRESET' && err.cause?.code !== 'UND_ERR_SOCKET') throw err
    return fetch(url, init)
  })
  const body = (await res.json()) as any
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

/** Polls `f` until it gives a truthy value (errors count as not yet), or throws after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 180_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    try {
      const v = await f()
      if (v) return v
    } catch {}
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * A transaction's receipt, polled without `until`'s 20 ms sleeps (an automined one is there when the send returns:
 * a sleep would be most of what is timed); throws after 180 s.
 */
export async function receiptSoon(url: string, hash: string): Promise<any> {
  const deadline = Date.now() + 180_000
  while (Date.now() < deadline) {
    const r = await rpc(url, 'eth_getTransactionReceipt', [hash])
    if (r) return r
    await new Promise((res) => setImmediate(res))
  }
  throw new Error(`timed out waiting for receipt ${hash}`)
}

/** CPU ms a process has used so far, user and system (utime, stime: fields 14 and 15 of /proc/<pid>/stat). */
export function processCpu(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // clock ticks of USER_HZ, 100 on Linux
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 }
}

/** User + system CPU ms of a process so far. */
export function processCpuMs(pid: number): number {
  const { user, system } = processCpu(pid)
  return user + system
}

/**
 * Compiles src/ with tsc into `<root>/.tmp-bench-dist-<portBase>/` (one folder per port base, so two benches
 * with different port bases do not compile over each other) and returns its CLI entry. The folder sits one level
 * below the root like dist/, so the sources' `../../` paths resolve alike. tsc still emits on type errors
 * (someone's work in progress): that JavaScript runs, with a warning.
 */
export function compileDist(root: string, portBase: number): string {
  const out = join(root, `.tmp-bench-dist-${portBase}`)
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  // a fresh output: nothing stale runs if this compile emits less than the last
  rmSync(out, { recursive: true, force: true })
  try {
    execFileSync(
      process.execPath,
      [tsc, '-p', 'tsconfig.build.json', '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'],
      { cwd: root, stdio: 'inherit' },
    )
  } catch (err) {
    if (!existsSync(join(out, 'cli', 'main.js'))) throw err
    process.stderr.write('bench: tsc reported errors; running the JavaScript it emitted\n')
  }
  return join(out, 'cli', 'main.js')
}

/** SIGTERM a node the bench started and wait for its exit, then remove its datadir (when it has one). */
export async function stopChild(child: ChildProcess, datadir?: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }
  if (datadir) rmSync(datadir, { recursive: true, force: true })
}

/** A node a bench drives over HTTP. */
export interface HttpTarget {
  url: string
  child: ChildProcess
  /** The devnet's datadir (anvil keeps its chain in memory). */
  datadir?: string
}

/**
 * Start anvil 1.7.1 (npm `@foundry-rs/anvil-linux-amd64`) or `lattice devnet` from the compiled CLI `entry` on
 * `port`, and wait until it answers (a devnet: until its example models are deployed too). On a failed start the
 * child is stopped before the error is thrown.
 */
export async function startHttpTarget(
  name: 'anvil' | 'devnet',
  port: number,
  entry?: () => string,
): Promise<HttpTarget> {
  const url = `http://127.0.0.1:${port}`
  let child: ChildProcess
  let datadir: string | undefined
  if (name === 'devnet') {
    if (!entry) throw new Error('startHttpTarget: a devnet needs the compiled CLI entry')
    const main = entry()
    datadir = mkdtempSync(join(tmpdir(), 'lattice-bench-'))
    child = spawn(process.execPath, [main, 'devnet', '--port', String(port), '--datadir', datadir], { stdio: 'ignore' })
  } else {
    const pkg = createRequire(import.meta.url).resolve('@foundry-rs/anvil-linux-amd64/package.json')
    const anvil = join(dirname(pkg), 'bin', 'anvil')
    child = spawn(anvil, ['--port', String(port), '--silent'], { stdio: 'ignore' })
  }
  try {
    await until(`${name} on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited`)
      return rpc(url, 'eth_chainId')
    })
    const dd = datadir
    if (dd) await until('devnet examples', async () => existsSync(join(dd, 'examples.json')))
  } catch (err) {
    await stopChild(child, datadir)
    throw err
  }
  return { url, child, datadir }
}
