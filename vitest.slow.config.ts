import { defineConfig } from 'vitest/config'
import { config, SLOW_TESTS } from './vitest.config.ts'

// `npm run test:slow`: the suites `npm test` leaves out (vitest.config.ts SLOW_TESTS).
export const slowConfig = defineConfig({
  test: { ...config.test, include: SLOW_TESTS, exclude: ['**/node_modules/**'] },
})
// biome-ignore lint/style/noDefaultExport: vitest config contract
export default slowConfig
