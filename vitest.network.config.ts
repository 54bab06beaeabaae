import { defineConfig } from 'vitest/config'
import { config } from './vitest.config.ts'

// `npm run test:network`: issue 16's acceptance on a real network of Lattice nodes and Lodestar validators
// (test/network/*.network.ts, named so that `npm test` never picks them up). One file, its checks in order on
// one network: ~10 minutes on 2 cores. Needs Lodestar (scripts/lodestar.sh).
export const networkConfig = defineConfig({
  test: {
    ...config.test,
    include: ['test/network/**/*.network.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
})
// biome-ignore lint/style/noDefaultExport: vitest config contract
export default networkConfig
