// The network's processes: started detached (a process group of their own, stdio to a log file) so they outlive
// `lattice network up`, and stopped by process group so nothing they started is left behind.
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { NetworkError } from './errors.ts'
import type { ProcessEntry } from './layout.ts'

/** Start `command` detached in `cwd`, appending its output to `log`; returns its pid. */
export function startDetached(entry: Omit<ProcessEntry, 'pid'>, env: NodeJS.ProcessEnv = process.env): number {
  const fd = openSync(entry.log, 'a')
  try {
    const [file, ...args] = entry.command
    const child = spawn(file, args, { cwd: entry.cwd, detached: true, stdio: ['ignore', fd, fd], env })
    if (child.pid === undefined)
      throw new NetworkError('SPAWN_FAILED', `Could not start ${file}; check that it exists and is executable.`)
    child.unref()
    return child.pid
  } finally {
    closeSync(fd)
  }
}

/**
 * Whether `pid` is alive and still the process that was started (its command line holds `marker`, e.g. the
 * network directory): a pid reused by an unrelated process after a reboot is never signalled.
 */
export function isOurs(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    // a zombie has an empty command line: it is gone for our purposes
    return cmdline.includes(marker)
  } catch {
    // no /proc (macOS): trust the pid
    return true
  }
}

/** Send `signal` to the process group of `pid` (and to `pid` itself, should it have left its group). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal)
    } catch {
      // already gone
    }
  }
}

/** Stop processes: SIGTERM to each group, then SIGKILL to what is still there after `graceMs`. */
export async function stopProcesses(
  entries: { pid: number; label: string }[],
  marker: string,
  opts: { graceMs?: number; onProgress?: (line: string) => void } = {},
): Promise<{ label: string; pid: number; killed: boolean }[]> {
  const live = entries.filter((e) => isOurs(e.pid, marker))
  for (const e of live) signalGroup(e.pid, 'SIGTERM')
  const deadline = Date.now() + (opts.graceMs ?? 20_000)
  while (Date.now() < deadline && live.some((e) => isOurs(e.pid, marker))) await sleep(200)
  const out: { label: string; pid: number; killed: boolean }[] = []
  for (const e of live) {
    const killed = isOurs(e.pid, marker)
    if (killed) {
      signalGroup(e.pid, 'SIGKILL')
      opts.onProgress?.(`${e.label} (pid ${e.pid}) did not stop on SIGTERM; killed`)
    }
    out.push({ label: e.label, pid: e.pid, killed })
  }
  // SIGKILL is not instant; wait until the kernel has them gone
  const end = Date.now() + 5_000
  while (Date.now() < end && live.some((e) => isOurs(e.pid, marker))) await sleep(100)
  return out
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
