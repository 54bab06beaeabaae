import { defineConfig } from 'vitest/config'
import { LongestFirstSequencer } from './test/helpers/sequencer.ts'

/** Suites over ~60 s on a loaded 2-core machine: `npm run test:slow` (CI runs it too). */
export const SLOW_TESTS = ['test/**/*.slow.test.ts']

export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...SLOW_TESTS],
    // worker-exit: names the file a worker died in (with isolate: false vitest says only "Worker exited unexpectedly")
    setupFiles: ['./src/polyfills.ts', './test/helpers/worker-exit.ts'],
    // Sized from measurement on a 2-core machine running a second `npm test`: the longest single test
    // (a devnet restart round) took 55 s alone and up to ~2x that under load.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Each worker loads src/ (ethereumjs, onnxruntime, the vite transforms) once instead of once per file: on a
    // clean clone at load 2-8 the suite took 439 s of CPU instead of 813 s (vitest's summed import time 45 s
    // instead of 296 s). Files share a worker's module state: no test mocks modules or timers, and the two that
    // set environment variables delete them in a finally/afterAll. A file whose state leaks belongs in a fix to it.
    isolate: false,
    // two cores: at most two test files (each may start a node process) at once
    maxWorkers: 2,
    // longest files first (measured), so neither worker is left with a two-minute file at the end
    sequence: { sequencer: LongestFirstSequencer },
  },
})
// vitest looks for a default export; this is the one place the no-default-exports rule bends.
// biome-ignore lint/style/noDefaultExport: vitest config contract
export default config
