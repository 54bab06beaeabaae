import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkpointDepth } from '../../src/chain/checkpoints.ts'
import type { Devnet, DevnetOpts } from '../../src/cli/devnet.ts'
import { startDevnet } from '../../src/cli/devnet.ts'

/** anvil/Hardhat account #0 and #1 keys (the devnet's mnemonic). */
export const KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
export const KEY1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
export const ADDR0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
export const ADDR1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
export const CHAIN_ID = 41232

export interface TestDevnet extends Devnet {
  url: string
  datadir: string
  stop(): Promise<void>
}

/** Start an in-process devnet on a free port with a fresh temp datadir. */
export async function startTestDevnet(opts: Partial<DevnetOpts> = {}): Promise<TestDevnet> {
  const datadir = opts.datadir ?? mkdtempSync(join(tmpdir(), 'lattice-test-'))
  // geth's 5 s call budget is for a node serving the public; a loaded 2-core test machine can take longer for a
  // heavy eth_call or eth_simulateV1. Tests of the timeout itself pass their own callLimits.
  const callLimits = { timeoutMs: 120_000, ...opts.callLimits }
  const devnet = await startDevnet({ port: 0, ...opts, callLimits, datadir })
  return {
    ...devnet,
    url: devnet.server.url,
    datadir,
    stop: async () => {
      // issue 11: a state checkpoint left open on the chain's VM stops every later flush; fail the test loudly
      const depth = await devnet.node.chain.exclusive(async () => checkpointDepth(devnet.node.chain.vm))
      await devnet.close()
      if (!opts.datadir) rmSync(datadir, { recursive: true, force: true })
      if (depth !== 0) throw new Error(`the devnet's VM had ${depth} state checkpoint(s) open when it stopped`)
    },
  }
}

/** POST one JSON-RPC call (or raw body) and return the parsed reply. */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return res.json()
}
