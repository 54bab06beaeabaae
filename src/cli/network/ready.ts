// Waiting for the network's processes: until a port answers, a process has not exited, or a deadline passes.
import { readFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { NetworkStartError } from './errors.ts'
import { isOurs, sleep } from './processes.ts'

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const out = new Set<number>()
  while (out.size < count) out.add(await freePort())
  return [...out]
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port })
    sock.once('connect', () => {
      sock.destroy()
      resolve(true)
    })
    sock.once('error', () => resolve(false))
  })
}

/** What to wait for. */
export interface WaitOpts {
  /** Named in the error. */
  what: string
  pid: number
  /** The process's command line must hold this (the network directory). */
  marker: string
  log: string
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Poll `ready` until it is true; a NetworkStartError (with the log's tail) when the process exits first or the
 * deadline passes.
 */
export async function waitUntil(ready: () => Promise<boolean>, opts: WaitOpts): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  while (Date.now() < deadline) {
    opts.signal?.throwIfAborted()
    if (!isOurs(opts.pid, opts.marker)) throw new NetworkStartError(opts.what, `exited${logTail(opts.log)}`, opts.log)
    if (await ready().catch(() => false)) return
    await sleep(500)
  }
  throw new NetworkStartError(
    opts.what,
    `was not ready after ${Math.round(opts.timeoutMs / 1000)} s${logTail(opts.log)}`,
    opts.log,
  )
}

/** The last lines of a log, for an error message. */
function logTail(log: string): string {
  try {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-8)
    return lines.length ? `; its log ends:\n${lines.join('\n')}\n` : ''
  } catch {
    return ''
  }
}
