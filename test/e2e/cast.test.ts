import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { COUNTER_SOL, compileContract } from '../helpers/solc.ts'

const run = promisify(execFile)
const require = createRequire(import.meta.url)
/** Foundry's cast from its npm package. */
const CAST = join(dirname(require.resolve('@foundry-rs/cast-linux-amd64/package.json')), 'bin', 'cast')

async function cast(...args: string[]): Promise<string> {
  const { stdout } = await run(CAST, args, { env: { ...process.env, FOUNDRY_DISABLE_NIGHTLY_WARNING: '1' } })
  return stdout.trim()
}

describe('Foundry cast against a real devnet', () => {
  let devnet: TestDevnet
  let counter: string

  beforeAll(async () => {
    devnet = await startTestDevnet()
    const { bytecode } = compileContract(COUNTER_SOL, 'Counter')
    const out = JSON.parse(
      await cast('send', '--rpc-url', devnet.url, '--private-key', KEY0, '--json', '--create', bytecode),
    )
    counter = out.contractAddress
  })
  afterAll(async () => {
    await devnet.stop()
  })

  it('cast send + cast receipt', async () => {
    const sent = JSON.parse(
      await cast('send', '--rpc-url', devnet.url, '--private-key', KEY0, '--json', counter, 'add(uint256)', '12'),
    )
    expect(sent.status).toBe('0x1')
    const status = await cast('receipt', '--rpc-url', devnet.url, sent.transactionHash, 'status')
    expect(status).toMatch(/^(1|true)/)
    const receipt = JSON.parse(await cast('receipt', '--rpc-url', devnet.url, '--json', sent.transactionHash))
    expect(receipt.blockNumber).toBe(sent.blockNumber)
    expect(receipt.logs).toHaveLength(1)
  })

  it('cast call reads the new state', async () => {
    expect(await cast('call', '--rpc-url', devnet.url, counter, 'get()(uint256)')).toBe('12')
  })

  it('cast logs finds the event', async () => {
    const out = JSON.parse(
      await cast(
        'logs',
        '--rpc-url',
        devnet.url,
        '--json',
        '--from-block',
        '0',
        '--address',
        counter,
        'Incremented(address indexed,uint256)',
      ),
    )
    expect(out).toHaveLength(1)
    expect(out[0].topics[1].toLowerCase()).toBe(`0x000000000000000000000000${ADDR0.slice(2).toLowerCase()}`)
  })

  it('cast send --unlocked signs with the dev account', async () => {
    const before = BigInt(await cast('balance', '--rpc-url', devnet.url, ADDR1))
    const sent = JSON.parse(
      await cast('send', '--rpc-url', devnet.url, '--unlocked', '--from', ADDR0, '--json', ADDR1, '--value', '12345'),
    )
    expect(sent.status).toBe('0x1')
    expect(BigInt(await cast('balance', '--rpc-url', devnet.url, ADDR1))).toBe(before + 12345n)
  })

  it('cast send --unlocked from an unknown account is refused', async () => {
    await expect(
      cast(
        'send',
        '--rpc-url',
        devnet.url,
        '--unlocked',
        '--from',
        '0x000000000000000000000000000000000000dEaD',
        ADDR1,
        '--value',
        '1',
        // a fixed gas limit skips cast's eth_estimateGas (which refuses first: the account has no funds)
        '--gas-limit',
        '21000',
      ),
    ).rejects.toThrow(/unknown account/)
  })
})
