// Foundry's anvil (npm @foundry-rs/anvil-linux-amd64) as a child process, for tests that compare with it.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import type { TestDevnet } from './devnet.ts'
import { rpc, startTestDevnet } from './devnet.ts'
import { freePort } from './devnet-process.ts'

export const ANVIL_BIN = join(
  dirname(createRequire(import.meta.url).resolve('@foundry-rs/anvil-linux-amd64/package.json')),
  'bin',
  'anvil',
)

export interface RunningAnvil {
  url: string
  child: ChildProcess
  stop(): void
}

/** Start anvil on a free port (its default mnemonic = the devnet's) and wait until it answers. */
export async function startAnvil(args: string[] = []): Promise<RunningAnvil> {
  const port = await freePort()
  const child = spawn(ANVIL_BIN, ['--port', String(port), '--silent', ...args], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  const stop = () => {
    if (child.exitCode === null) child.kill()
  }
  for (let i = 0; i < 600; i++) {
    try {
      if ((await rpc(url, 'eth_chainId')).result) return { url, child, stop }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  stop()
  throw new Error('anvil did not start within 60 s')
}

/**
 * A test devnet and an anvil with the devnet's chain id, side by side for the suite that calls this: started
 * together before its tests, stopped after them. Read `devnet`/`anvil` inside tests (they are set by then).
 */
export function devnetBesideAnvil(chainId: bigint | number): { devnet: TestDevnet; anvil: RunningAnvil } {
  const both = {} as { devnet: TestDevnet; anvil: RunningAnvil }
  beforeAll(async () => {
    ;[both.devnet, both.anvil] = await Promise.all([startTestDevnet(), startAnvil(['--chain-id', String(chainId)])])
  }, 120_000)
  afterAll(async () => {
    both.anvil?.stop()
    await both.devnet?.stop()
  })
  return both
}
