/**
 * Peering between two in-process `lattice node`s on loopback (mining off): how long N transactions sent to
 * node A take to be in node B's pool (transaction gossip), set against how long A's own RPC took to admit
 * them in the same run (the pool path every gossiped transaction goes through again on B); and how fast B
 * fetches a file added on A by CID over bitswap, set against A reading it locally.
 *
 *   node --import tsx bench/p2p.ts [--txs 256 --mib 64]
 */
import '../src/polyfills.ts'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Wallet } from 'ethers'
import type { EmbeddedModelStore } from '../src/storage/embedded.ts'
import { CHAIN_ID } from '../test/helpers/devnet.ts'
import { startPeer, stopPeer, waitFor, writeTwoValidatorGenesis } from '../test/helpers/p2p.ts'

const { values } = parseArgs({
  options: { txs: { type: 'string', default: '256' }, mib: { type: 'string', default: '64' } },
})
const N = Number(values.txs)
const MIB = Number(values.mib)
// funded dev accounts (the devnet mnemonic = anvil's keys #0..#3); the pool holds 64 per sender, so 256 at most
const KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
]

const root = mkdtempSync(join(tmpdir(), 'lattice-bench-p2p-'))
const genesis = writeTwoValidatorGenesis(root)
const a = await startPeer(genesis)
const b = await startPeer(genesis, { bootnodes: [a.enode] })
try {
  await waitFor('peering', () => b.peering!.peerCount() > 0 && a.peering!.peerCount() > 0)
  const wallets = KEYS.map((k) => new Wallet(k))
  const per = Math.ceil(N / wallets.length)
  const raws: string[] = []
  for (let i = 0; i < per; i++) {
    for (const w of wallets) {
      if (raws.length >= N) break
      raws.push(
        await w.signTransaction({
          type: 2,
          chainId: CHAIN_ID,
          nonce: i,
          to: wallets[0].address,
          value: 1n,
          gasLimit: 21_000n,
          maxFeePerGas: 20_000_000_000n,
          maxPriorityFeePerGas: 1_000_000_000n,
        }),
      )
    }
  }
  const t0 = performance.now()
  let admitted = 0
  for (const raw of raws) {
    try {
      await a.node.sendRawTransaction(Buffer.from(raw.slice(2), 'hex'))
      admitted++
    } catch {
      // over the per-sender limit: the pool's rule, the same on both nodes
    }
  }
  const tA = performance.now() - t0
  await waitFor('every admitted transaction on B', () => b.node.pool.size >= admitted, 300_000)
  const tB = performance.now() - t0
  console.log(
    `tx gossip: ${admitted} txs admitted on A in ${tA.toFixed(0)} ms; all in B's pool ${tB.toFixed(0)} ms after the first was sent (${((admitted / tB) * 1000).toFixed(0)} tx/s end to end; B's extra wait after A finished ${(tB - tA).toFixed(0)} ms)`,
  )

  const bytes = randomBytes(MIB * 1024 * 1024)
  const storeA = a.store as EmbeddedModelStore
  const { cid } = await storeA.add(bytes)
  const t1 = performance.now()
  let n = 0
  for await (const c of storeA.cat(cid)) n += c.byteLength
  const local = performance.now() - t1
  const t2 = performance.now()
  let m = 0
  for await (const c of b.store.cat(cid)) m += c.byteLength
  const remote = performance.now() - t2
  if (n !== bytes.length || m !== bytes.length) throw new Error('size mismatch')
  console.log(
    `bitswap: ${MIB} MiB by CID from A to B in ${remote.toFixed(0)} ms (${(MIB / (remote / 1000)).toFixed(1)} MiB/s); A's local read ${local.toFixed(0)} ms; ratio ${(remote / local).toFixed(1)}x`,
  )
  console.log(`RSS of this process (both nodes): ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB`)
} finally {
  await stopPeer(b)
  await stopPeer(a)
  rmSync(root, { recursive: true, force: true })
}
