import { defineConfig } from 'vitest/config'

export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./src/polyfills.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // two cores: keep heavy suites from fighting over them
    maxWorkers: 2,
  },
})
// vitest looks for a default export; this is the one place the no-default-exports rule bends.
// biome-ignore lint/style/noDefaultExport: vitest config contract
export default config
