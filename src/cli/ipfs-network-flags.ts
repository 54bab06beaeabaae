// `lattice devnet`'s IPFS networking flags: let other nodes (a second devnet, `lattice import --ipfs-peer`, a Kubo
// daemon) fetch this devnet's model packages over bitswap, and connect to peers that hold packages it lacks.
import type { NetworkOpts } from '../storage/network.ts'
import type { CliOption } from './command.ts'
import { CliFlagError } from './errors.ts'

/** The flags, `lattice import`'s `--ipfs-peer` spelling. */
export const IPFS_NETWORK_OPTIONS: CliOption[] = [
  {
    flags: '--ipfs-port <port>',
    description: 'serve model packages to IPFS peers (libp2p TCP) on this port; 0 picks a free one (default: off)',
  },
  {
    flags: '--ipfs-peer <multiaddr>',
    description: 'IPFS peer to connect to, ending in /p2p/<peer id> (repeatable; turns IPFS networking on)',
    repeatable: true,
  },
]

/**
 * Read the flags from commander's options; undefined when IPFS networking stays off. The listen address follows
 * `--host`: loopback unless the RPC is exposed on all interfaces.
 */
export function parseIpfsNetworkFlags(opts: Record<string, unknown>): NetworkOpts | undefined {
  const rawPort = opts.ipfsPort
  const peers = ((opts.ipfsPeer as string[] | undefined) ?? []).map((p) => p.trim()).filter(Boolean)
  if (rawPort === undefined && peers.length === 0) return undefined
  const port = rawPort === undefined ? 0 : Number(rawPort)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliFlagError(`--ipfs-port ${String(rawPort)} is not a port number. Pass an integer from 0 to 65535.`)
  }
  for (const p of peers) {
    if (!/^\/ip[46]\/[^/]+\/tcp\/\d+\/p2p\/\w+$/.test(p)) {
      throw new CliFlagError(
        `--ipfs-peer ${p} is not a peer address. Pass e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW... (a peer's "IPFS:" line).`,
      )
    }
  }
  const addr = opts.host === '0.0.0.0' ? '0.0.0.0' : '127.0.0.1'
  return { listen: [`/ip4/${addr}/tcp/${port}`], peers }
}
