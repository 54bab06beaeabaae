// A setup file (vitest.config.ts). With isolate: false one worker process runs many test files; when it dies, the
// file it was running is lost and vitest says only "Worker exited unexpectedly". This prints which file was
// running and how the worker ended (an exit code, or SIGTERM/SIGINT/SIGHUP); nothing printed means a signal that
// cannot be caught (SIGKILL) or a native crash (SIGSEGV, SIGABRT).
import { afterAll, beforeAll, expect } from 'vitest'

const INSTALLED = Symbol.for('lattice.test.worker-exit')
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

interface ExitWatch {
  file?: string
}

function install(): ExitWatch {
  const watch: ExitWatch = {}
  const say = (how: string) =>
    process.stderr.write(`[worker-exit] pid ${process.pid} ${how} while running ${watch.file}\n`)
  process.on('exit', (code) => {
    if (watch.file) say(`exited with code ${code}`)
  })
  for (const sig of SIGNALS) {
    const onSignal = () => {
      if (watch.file) say(`received ${sig}`)
      // a listener turns the default (terminate) off: without other listeners, end as the signal would have
      if (process.listenerCount(sig) === 1) {
        process.off(sig, onSignal)
        process.kill(process.pid, sig)
      }
    }
    process.on(sig, onSignal)
  }
  return watch
}

const g = globalThis as Record<symbol, ExitWatch | undefined>
// setup files run once per test file; the listeners go on once per worker process
g[INSTALLED] ??= install()
const watch = g[INSTALLED]

beforeAll(() => {
  watch.file = expect.getState().testPath ?? 'an unnamed file'
})
afterAll(() => {
  watch.file = undefined
})
