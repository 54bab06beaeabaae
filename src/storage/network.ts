// Optional networking for the embedded store: Helia + libp2p (TCP, noise, yamux, identify, bitswap),
// loaded with dynamic imports only when a store is opened with `network`, so the default path never
// pays helia's multi-second import.
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import { parseCid } from './dag.ts'
import { NetworkStartError } from './errors.ts'
import type { PackBlockstore } from './pack.ts'
import type { BlockSource, IoOptions } from './types.ts'

export interface NetworkOpts {
  /** Listen multiaddrs (default `/ip4/127.0.0.1/tcp/0`). */
  listen?: string[]
  /** Peers to dial at start, as multiaddrs ending in `/p2p/<peer id>`. */
  peers?: string[]
  /** How long a block fetch from peers may take before it fails (default 30 s). */
  fetchTimeoutMs?: number
  /** The node's identity (default: a key kept in the store's datastore). The p2p layer passes its node key. */
  privateKey?: PrivateKey
}

/** A running libp2p node that serves the local blockstore and fetches missing blocks over bitswap. */
export interface NetworkNode extends BlockSource {
  readonly peerId: string
  /** Dialable addresses, each ending in `/p2p/<peer id>`. */
  multiaddrs(): string[]
  dial(multiaddr: string, opts?: IoOptions): Promise<void>
  /** Peers connected now (the node's metrics). */
  peerCount(): number
  /** The libp2p node itself, so execution-layer peering (src/p2p) runs its protocols on the same peers. */
  readonly libp2p: Libp2p
  stop(): Promise<void>
}

/** Start Helia on the store's own blockstore and datastore. */
export async function startNetwork(
  opts: NetworkOpts & { blockstore: PackBlockstore; datastore: Datastore },
): Promise<NetworkNode> {
  try {
    const [{ createHeliaLight }, { withLibp2pLight }, { withBitswap }, { tcp }, { noise }, { yamux }, { identify }] =
      await Promise.all([
        import('helia'),
        import('@helia/libp2p'),
        import('@helia/bitswap'),
        import('@libp2p/tcp'),
        import('@libp2p/noise'),
        import('@libp2p/yamux'),
        import('@libp2p/identify'),
      ])
    const { multiaddr } = await import('@multiformats/multiaddr')
    const helia = withBitswap(
      withLibp2pLight(createHeliaLight({ blockstore: opts.blockstore as any, datastore: opts.datastore }), {
        addresses: { listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify() },
        ...(opts.privateKey ? { privateKey: opts.privateKey } : {}),
      } as any),
    )
    await helia.start()
    const libp2p = (helia as any).libp2p
    const node: NetworkNode = {
      libp2p,
      peerId: libp2p.peerId.toString(),
      multiaddrs: () => libp2p.getMultiaddrs().map((m: any) => m.toString()),
      peerCount: () => libp2p.getPeers().length,
      async dial(addr, o = {}) {
        await libp2p.dial(multiaddr(addr), { signal: o.signal })
      },
      async getBlock(cid, o = {}) {
        // (re)connect configured peers first: dial reuses a live connection and revives a dropped one
        await Promise.allSettled((opts.peers ?? []).map((p) => libp2p.dial(multiaddr(p), { signal: o.signal })))
        const signal = AbortSignal.any([
          AbortSignal.timeout(opts.fetchTimeoutMs ?? 30_000),
          ...(o.signal ? [o.signal] : []),
        ])
        const chunks: Uint8Array[] = []
        for await (const c of helia.blockstore.get(parseCid(cid), { signal })) chunks.push(c)
        return Buffer.concat(chunks)
      },
      async stop() {
        await helia.stop()
      },
    }
    for (const p of opts.peers ?? []) await node.dial(p)
    return node
  } catch (err) {
    if (err instanceof NetworkStartError) throw err
    throw new NetworkStartError((err as Error).message ?? String(err), err)
  }
}
