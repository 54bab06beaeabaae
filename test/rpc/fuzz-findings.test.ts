// Inputs `npm run fuzz` found answered with -32603 (a caught internal error) instead of -32602.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { rpc, startTestDevnet } from '../helpers/devnet.ts'

describe('fuzz findings', () => {
  let devnet: TestDevnet
  beforeAll(async () => {
    devnet = await startTestDevnet()
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('eth_feeHistory with a fractional block count is -32602', async () => {
    const r = await rpc(devnet.url, 'eth_feeHistory', [1.5, 'latest'])
    expect(r.error?.code).toBe(-32602)
    expect(r.error?.message).toMatch(/blockCount/)
    expect((await rpc(devnet.url, 'eth_feeHistory', [1, 'latest'])).result.oldestBlock).toBe('0x0')
  }, 60_000)
})
