import { defineConfig } from 'vitest/config'
import { config } from './vitest.config.ts'

// `npm run test:hardhat`: Hardhat 3 (network helpers, Ignition) against a devnet (test/hardhat/*.hardhat.ts,
// named so that `npm test` never picks them up). Needs examples/hardhat installed (scripts/hardhat.sh).
export const hardhatConfig = defineConfig({
  test: {
    ...config.test,
    include: ['test/hardhat/**/*.hardhat.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
  },
})
// biome-ignore lint/style/noDefaultExport: vitest config contract
export default hardhatConfig
