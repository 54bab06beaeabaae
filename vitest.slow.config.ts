import { defineConfig } from 'vitest/config'
import { config, SLOW_TESTS } from './vitest.config.ts'

// `npm run test:slow`: the suites `npm test` leaves out (vitest.config.ts SLOW_TESTS).
export const slowConfig = defineConfig({
  // slow suites wait on many blocks or large files: a longer budget per test on a loaded machine
  test: {
    ...config.test,
    include: SLOW_TESTS,
    exclude: ['**/node_modules/**'],
    testTimeout: 600_000,
    // each slow suite in its own process as before: few files, so isolation costs little here
    isolate: true,
  },
})
// biome-ignore lint/style/noDefaultExport: vitest config contract
export default slowConfig
