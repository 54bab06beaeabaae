// TEST-ONLY switches for the write-ahead log's crash tests (test/e2e/wal-crash.slow.test.ts). Never set them on a real node.
// - LATTICE_TEST_WAL_CRASH=after-append:<n>: the process kills itself with SIGKILL right after the n-th block of this
//   run is in the log, before its writes are staged and before it is acknowledged.
// - LATTICE_TEST_WAL_FLUSH_MS=<ms>: the group-commit interval, so that a test can hold acknowledged blocks unflushed.

/** The environment variable of the crash point (test-only). */
export const WAL_CRASH_ENV = 'LATTICE_TEST_WAL_CRASH'
/** The environment variable of the group-commit interval (test-only). */
export const WAL_FLUSH_MS_ENV = 'LATTICE_TEST_WAL_FLUSH_MS'

/** The append after which to die, when the test-only switch is set. */
export function walCrashAfterAppend(): number | undefined {
  const m = /^after-append:(\d+)$/.exec(process.env[WAL_CRASH_ENV] ?? '')
  return m ? Number(m[1]) : undefined
}

/** The group-commit interval: the test-only override, else `fallback`. */
export function walFlushMs(fallback: number): number {
  const v = Number(process.env[WAL_FLUSH_MS_ENV])
  return Number.isFinite(v) && v > 0 ? v : fallback
}
