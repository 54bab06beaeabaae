// In-process `lattice node`s with peering on, for test/p2p: a devnet genesis with two validators (dev
// accounts #0 and #1), each node on its own temp datadir, RPC and libp2p on free loopback ports.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initDatadir } from '../../src/chain/datadir.ts'
import { DEVNET_GENESIS_PATH } from '../../src/chain/genesis.ts'
import type { MiningMode, RunningNode, StartNodeOpts } from '../../src/cli/node.ts'
import { startNode } from '../../src/cli/node.ts'
import { ADDR0, ADDR1, rpc } from './devnet.ts'

/** The devnet genesis with dev accounts #0 and #1 as the validator set; written into `dir`. */
export function writeTwoValidatorGenesis(dir: string): string {
  const g = JSON.parse(readFileSync(fileURLToPath(DEVNET_GENESIS_PATH), 'utf8'))
  g.config.lattice.validators = [ADDR0, ADDR1]
  const path = join(dir, 'genesis.json')
  writeFileSync(path, JSON.stringify(g, null, 2))
  return path
}

export interface TestPeer extends RunningNode {
  datadir: string
  url: string
  enode: string
}

/** Start a node with peering on a fresh (or given) datadir initialised from `genesisPath`. */
export async function startPeer(
  genesisPath: string,
  opts: {
    datadir?: string
    mining?: MiningMode
    bootnodes?: string[]
    validatorKey?: string
  } & Partial<StartNodeOpts> = {},
): Promise<TestPeer> {
  const datadir = opts.datadir ?? mkdtempSync(join(tmpdir(), 'lattice-p2p-'))
  if (!opts.datadir) await initDatadir({ datadir, genesisPath })
  const running = await startNode({
    ...opts,
    datadir,
    port: 0,
    mining: opts.mining ?? { kind: 'off' },
    callLimits: { timeoutMs: 120_000 },
    p2p: { port: 0, bootnodes: opts.bootnodes },
  })
  return { ...running, datadir, url: running.server.url, enode: running.peering!.nodeInfo().enode }
}

/** Close a node and delete its datadir. */
export async function stopPeer(p: TestPeer | undefined): Promise<void> {
  if (!p) return
  await p.close()
  rmSync(p.datadir, { recursive: true, force: true })
}

/** Poll `check` every 100 ms until it returns true; throws with `what` after `ms`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Peer ids in a node's admin_peers. */
export async function peerIds(url: string): Promise<string[]> {
  const r = await rpc(url, 'admin_peers')
  return (r.result as { id: string }[]).map((p) => p.id)
}
