// `lattice devnet` as a child process, for tests that stop and restart a node (clean stop, kill -9).
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { rpc } from './devnet.ts'

const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname

/** A TCP port free on 127.0.0.1 right now (a restarted node reuses it, so clients keep their URL). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Options of {@link startDevnetProcess}. */
export interface DevnetProcessOpts {
  datadir: string
  port: number
  /** More `lattice devnet` flags, e.g. `['--no-examples']`. */
  args?: string[]
  /** Every child started is pushed here, so an `afterAll` can kill what a failed test left running. */
  children?: ChildProcess[]
  /** `answers`: once eth_blockNumber answers; `listening`: once it prints "Listening on" (examples deployed). */
  until?: 'answers' | 'listening'
  /** How long it may take to start (default 120 s: a loaded 2-core machine). */
  timeoutMs?: number
}

/** Start `lattice devnet` and resolve once it is up; throws with its output if it exits or does not start. */
export async function startDevnetProcess(opts: DevnetProcessOpts): Promise<ChildProcess> {
  const args = opts.args ?? []
  // geth's 5 s call budget is for a node serving the public: on a loaded 2-core test machine the first inference
  // of an eth_call (the model's session loads) took longer, and the call failed with -32000 instead of its revert
  // (security-restart, load 15). As startTestDevnet's callLimits; a test of the timeout passes its own.
  const timeout = args.includes('--rpc.evmtimeout') ? [] : ['--rpc.evmtimeout', '120s']
  const child = spawn(
    process.execPath,
    [BIN, 'devnet', '--port', String(opts.port), '--datadir', opts.datadir, ...timeout, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  opts.children?.push(child)
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000)
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`devnet exited early:\n${output}`)
    if (opts.until === 'listening') {
      if (output.includes('Listening on')) return child
    } else {
      try {
        const r = await rpc(`http://127.0.0.1:${opts.port}`, 'eth_blockNumber')
        if (r.result) return child
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`devnet did not start:\n${output}`)
}

/** Send `signal` and resolve with the exit code once the process is gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  child.kill(signal)
  return exited
}
