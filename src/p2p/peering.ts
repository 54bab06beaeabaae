// Execution-layer peering on the node's one libp2p node (the same one the model store's bitswap runs on, so a
// peer that gossips transactions also serves model bytes): static peers (bootnodes, admin_addPeer) kept
// connected, transaction and attestation gossip, and geth's admin_* views of it.
import { bytesToHex } from '@ethereumjs/util'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { LatticeNode } from '../chain/node.ts'
import { errorMessage } from '../errors.ts'
import { AttestationGossip } from './attestation-gossip.ts'
import { InvalidPeerAddressError } from './errors.ts'
import { TxGossip } from './tx-gossip.ts'
import type { LatticeProtocols } from './wire.ts'
import { latticeProtocols } from './wire.ts'

/** Options for {@link startPeering}. */
export interface PeeringOpts {
  /** The started libp2p node (the model store's: storage/network.ts). */
  libp2p: Libp2p
  node: LatticeNode
  /** Multiaddrs ending in `/p2p/<peer id>` to connect to and keep connected. */
  bootnodes?: string[]
  /** web3_clientVersion, shown as the node's name. */
  clientVersion: string
  /** One line per dropped message, rejected transaction or signature, failed dial. */
  log?: (line: string) => void
  /** How often static peers that dropped are dialled again (default 5 s). */
  redialMs?: number
}

/** geth's admin_nodeInfo, with libp2p's identity in place of the enode. */
export interface NodeInfo {
  id: string
  name: string
  /** The first dialable address, `/ip4/…/tcp/…/p2p/<id>`: what other nodes pass as a bootnode. */
  enode: string
  multiaddrs: string[]
  ip: string
  ports: { listener: number }
  listenAddr: string
  protocols: { lattice: { network: string; genesis: string; head: string; protocols: string[] } }
}

/** One entry of admin_peers. */
export interface PeerInfo {
  id: string
  name: string
  enode: string
  caps: string[]
  network: { remoteAddress: string; inbound: boolean; static: boolean }
  protocols: { lattice: { tx: boolean; attestation: boolean } }
}

/** A running peering layer. */
export interface Peering {
  readonly protocols: LatticeProtocols
  readonly txGossip: TxGossip
  readonly attestations: AttestationGossip
  nodeInfo(): NodeInfo
  peers(): Promise<PeerInfo[]>
  /** Connect to `addr` now and keep it connected (geth's admin_addPeer: true once the address is accepted). */
  addPeer(addr: string): Promise<boolean>
  /** Stop keeping `addr` connected and hang up on it. */
  removePeer(addr: string): Promise<boolean>
  peerCount(): number
  close(): Promise<void>
}

/** Parse a peer address; the peer id it ends in is required (a node is dialled by its identity). */
export async function parsePeerAddress(addr: string): Promise<{ ma: Multiaddr; peerId: string }> {
  const { multiaddr } = await import('@multiformats/multiaddr')
  let ma: Multiaddr
  try {
    ma = multiaddr(addr)
  } catch (err) {
    throw new InvalidPeerAddressError(addr, errorMessage(err))
  }
  const p2p = ma.getComponents().find((c) => c.name === 'p2p')
  if (!p2p?.value) throw new InvalidPeerAddressError(addr, 'it does not end in /p2p/<peer id>')
  return { ma, peerId: p2p.value }
}

/** Start gossip on `opts.libp2p` and dial the bootnodes (in the background: a missing bootnode is retried). */
export async function startPeering(opts: PeeringOpts): Promise<Peering> {
  const { libp2p, node } = opts
  const chain = node.chain
  const genesis = (await chain.getBlockByNumber(0n))?.hash() ?? new Uint8Array(32)
  const protocols = latticeProtocols(bytesToHex(genesis))
  const log = opts.log ?? (() => {})
  const txGossip = new TxGossip({ libp2p, node, protocol: protocols.tx, log })
  const attestations = new AttestationGossip({ libp2p, chain, protocol: protocols.attestation, log })
  await txGossip.start()
  await attestations.start()

  /** Static peers by peer id: the bootnodes and admin_addPeer's. */
  const statics = new Map<string, Multiaddr>()
  const dialing = new Set<string>()
  /** Static peers whose last dial failed: told once, not every 5 s while a peer is down. */
  const failing = new Set<string>()
  const connected = (id: string) => libp2p.getPeers().some((p) => p.toString() === id)
  const dial = (id: string, ma: Multiaddr) => {
    if (dialing.has(id) || connected(id)) return
    dialing.add(id)
    libp2p
      .dial(ma, { signal: AbortSignal.timeout(10_000) })
      .then(() => failing.delete(id))
      .catch((err) => {
        if (!failing.has(id)) log(`could not connect to ${ma} (trying again every few seconds): ${errorMessage(err)}`)
        failing.add(id)
      })
      .finally(() => dialing.delete(id))
  }
  for (const b of opts.bootnodes ?? []) {
    const { ma, peerId } = await parsePeerAddress(b)
    statics.set(peerId, ma)
  }
  for (const [id, ma] of statics) dial(id, ma)
  const timer = setInterval(() => {
    for (const [id, ma] of statics) dial(id, ma)
  }, opts.redialMs ?? 5000)
  timer.unref()

  const nodeInfo = (): NodeInfo => {
    const addrs = libp2p.getMultiaddrs().map((m) => m.toString())
    const first = addrs[0] ?? ''
    const ip = /\/ip[46]\/([^/]+)/.exec(first)?.[1] ?? ''
    const port = Number(/\/tcp\/(\d+)/.exec(first)?.[1] ?? 0)
    return {
      id: libp2p.peerId.toString(),
      name: opts.clientVersion,
      enode: first,
      multiaddrs: addrs,
      ip,
      ports: { listener: port },
      listenAddr: ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`,
      protocols: {
        lattice: {
          network: chain.chainId.toString(),
          genesis: bytesToHex(genesis),
          head: bytesToHex(chain.head.hash()),
          protocols: [protocols.tx, protocols.attestation],
        },
      },
    }
  }

  const peers = async (): Promise<PeerInfo[]> => {
    const out: PeerInfo[] = []
    const decoder = new TextDecoder()
    for (const conn of libp2p.getConnections()) {
      const id = conn.remotePeer.toString()
      if (out.some((p) => p.id === id)) continue
      let caps: string[] = []
      let name = ''
      try {
        const p = await libp2p.peerStore.get(conn.remotePeer)
        caps = [...p.protocols].sort()
        const agent = p.metadata.get('AgentVersion')
        if (agent) name = decoder.decode(agent)
      } catch {
        // not identified yet
      }
      const remote = conn.remoteAddr.toString()
      out.push({
        id,
        name,
        enode: remote.includes('/p2p/') ? remote : `${remote}/p2p/${id}`,
        caps,
        network: { remoteAddress: remote, inbound: conn.direction === 'inbound', static: statics.has(id) },
        protocols: { lattice: { tx: caps.includes(protocols.tx), attestation: caps.includes(protocols.attestation) } },
      })
    }
    return out
  }

  return {
    protocols,
    txGossip,
    attestations,
    nodeInfo,
    peers,
    peerCount: () => libp2p.getPeers().length,
    async addPeer(addr) {
      const { ma, peerId } = await parsePeerAddress(addr)
      if (peerId === libp2p.peerId.toString()) throw new InvalidPeerAddressError(addr, 'it is this node')
      statics.set(peerId, ma)
      dial(peerId, ma)
      return true
    },
    async removePeer(addr) {
      const { peerId } = await parsePeerAddress(addr)
      const had = statics.delete(peerId)
      const conns = libp2p.getConnections().filter((c) => c.remotePeer.toString() === peerId)
      await Promise.all(conns.map((c) => c.close().catch(() => {})))
      return had || conns.length > 0
    },
    async close() {
      clearInterval(timer)
      await attestations.stop()
      await txGossip.stop()
    },
  }
}
