// Three in-process nodes on loopback: peering by bootnode and admin_addPeer, the admin_* views, transaction
// gossip (a transaction sent to one node reaches every pool, also through a node in between) and what happens
// to a bad transaction or a garbage message from a peer, and the node key across a restart.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { peerIdFromString } from '@libp2p/peer-id'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeKeyPath } from '../../src/p2p/nodekey.ts'
import { sendMessage } from '../../src/p2p/wire.ts'
import type { EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { ADDR1, CHAIN_ID, KEY0, KEY1, rpc } from '../helpers/devnet.ts'
import type { TestPeer } from '../helpers/p2p.ts'
import { peerIds, startPeer, stopPeer, waitFor, writeTwoValidatorGenesis } from '../helpers/p2p.ts'

const GWEI = 1_000_000_000n

describe('peering between Lattice nodes', () => {
  const root = mkdtempSync(join(tmpdir(), 'lattice-peering-'))
  const genesis = writeTwoValidatorGenesis(root)
  let a: TestPeer
  let b: TestPeer
  let c: TestPeer | undefined
  beforeAll(async () => {
    a = await startPeer(genesis)
    b = await startPeer(genesis, { bootnodes: [a.enode] })
    c = await startPeer(genesis)
  })
  afterAll(async () => {
    await stopPeer(c)
    await stopPeer(b)
    await stopPeer(a)
    rmSync(root, { recursive: true, force: true })
  })

  it('connects through --bootnodes and admin_addPeer; admin_nodeInfo, admin_peers and net_peerCount show it', async () => {
    const info = (await rpc(a.url, 'admin_nodeInfo')).result
    expect(info.enode).toBe(`${info.multiaddrs[0]}`)
    expect(info.enode).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${info.id}$`))
    expect(info.protocols.lattice.network).toBe(String(CHAIN_ID))
    expect(info.name).toMatch(/^Lattice\//)
    await waitFor('B to peer with its bootnode A', async () => (await peerIds(b.url)).includes(info.id))

    expect((await rpc(c!.url, 'admin_addPeer', [b.enode])).result).toBe(true)
    const cId = c!.peering!.nodeInfo().id
    await waitFor('C to peer with B', async () => (await peerIds(b.url)).includes(cId))
    // identify tells B which Lattice protocols A speaks
    await waitFor('B to see that A speaks the Lattice protocols', async () => {
      const peers = (await rpc(b.url, 'admin_peers')).result as any[]
      const pa = peers.find((p) => p.id === info.id)
      return pa?.protocols.lattice.tx === true && pa?.protocols.lattice.attestation === true
    })
    const peersOfB = (await rpc(b.url, 'admin_peers')).result as any[]
    expect(peersOfB.find((p) => p.id === info.id)).toMatchObject({ network: { static: true, inbound: false } })
    expect(peersOfB.find((p) => p.id === cId)).toMatchObject({ network: { static: false, inbound: true } })
    expect((await rpc(b.url, 'net_peerCount')).result).toBe('0x2')
    expect(await peerIds(a.url)).not.toContain(cId)

    const bad = await rpc(a.url, 'admin_addPeer', ['/ip4/127.0.0.1/tcp/1'])
    expect(bad.error.code).toBe(-32602)
    expect(bad.error.message).toMatch(/does not end in \/p2p\/<peer id>/)
    expect((await rpc(a.url, 'admin_addPeer', ['not a multiaddr'])).error.code).toBe(-32602)
  })

  it('a transaction sent to A reaches the pools of B and of C (through B), once', async () => {
    const raw = await new Wallet(KEY0).signTransaction({
      type: 2,
      chainId: CHAIN_ID,
      nonce: 0,
      to: ADDR1,
      value: 1n,
      gasLimit: 21_000n,
      maxFeePerGas: 20n * GWEI,
      maxPriorityFeePerGas: GWEI,
    })
    const sent = await rpc(a.url, 'eth_sendRawTransaction', [raw])
    const hash = sent.result as string
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/)
    await waitFor('the transaction in B and C', () => b.node.pool.has(hash) && c!.node.pool.has(hash))
    const got = (await rpc(c!.url, 'eth_getTransactionByHash', [hash])).result
    expect(got.hash).toBe(hash)
    expect(got.blockNumber).toBeNull()
    // each node admitted it once; the copies that came back around were recognised by hash
    expect(b.peering!.txGossip.stats.accepted).toBe(1)
    expect(c!.peering!.txGossip.stats.accepted).toBe(1)
    expect(a.peering!.txGossip.stats.accepted).toBe(0)
  })

  it('a peer’s invalid transaction and a garbage message are dropped; the node goes on', async () => {
    const libp2pA = (a.store as EmbeddedModelStore).network!.libp2p
    const bId = peerIdFromString(b.peering!.nodeInfo().id)
    const protocol = b.peering!.protocols.tx
    // account #1 cannot pay 10^30 wei; and a transaction for another chain
    const unaffordable = await new Wallet(KEY1).signTransaction({
      type: 2,
      chainId: CHAIN_ID,
      nonce: 0,
      to: ADDR1,
      value: 10n ** 30n,
      gasLimit: 21_000n,
      maxFeePerGas: 20n * GWEI,
      maxPriorityFeePerGas: GWEI,
    })
    const otherChain = await new Wallet(KEY1).signTransaction({
      type: 2,
      chainId: 1,
      nonce: 0,
      to: ADDR1,
      value: 1n,
      gasLimit: 21_000n,
      maxFeePerGas: 20n * GWEI,
      maxPriorityFeePerGas: GWEI,
    })
    const before = { ...b.peering!.txGossip.stats }
    const poolBefore = b.node.pool.size
    await sendMessage(
      libp2pA,
      bId,
      protocol,
      RLP.encode([Buffer.from(unaffordable.slice(2), 'hex'), Buffer.from(otherChain.slice(2), 'hex')]),
    )
    await sendMessage(libp2pA, bId, protocol, new Uint8Array([0xff, 0x00, 0x13]))
    await waitFor(
      'B to refuse both and drop the garbage',
      () =>
        b.peering!.txGossip.stats.rejected === before.rejected + 2 &&
        b.peering!.txGossip.stats.badMessages === before.badMessages + 1,
    )
    expect(b.node.pool.size).toBe(poolBefore)
    expect((await rpc(b.url, 'eth_blockNumber')).result).toBe('0x0')
    expect((await rpc(b.url, 'admin_peers')).result.length).toBe(2)
  })

  it('keeps its node key in the datadir (0600), so its peer id survives a restart', async () => {
    const path = nodeKeyPath(c!.datadir)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const id = c!.peering!.nodeInfo().id
    const datadir = c!.datadir
    await c!.close()
    c = undefined
    c = await startPeer(genesis, { datadir, bootnodes: [b.enode] })
    expect(c.peering!.nodeInfo().id).toBe(id)
    await waitFor('the restarted C back in B’s peers', async () => (await peerIds(b.url)).includes(id))
  })
  it('admin_removePeer hangs up on a static peer and stops dialling it', async () => {
    const cId = c!.peering!.nodeInfo().id
    expect((await rpc(c!.url, 'admin_removePeer', [b.enode])).result).toBe(true)
    await waitFor('B to lose C', async () => !(await peerIds(b.url)).includes(cId))
    // past one redial period (5 s) it is still not back
    await new Promise((r) => setTimeout(r, 6000))
    expect(await peerIds(c!.url)).not.toContain(b.peering!.nodeInfo().id)
  })
})
