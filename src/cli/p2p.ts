// `lattice node`'s peering flags and the composition of src/p2p on the model store's libp2p node.
import type { LatticeNode } from '../chain/node.ts'
import { PeeringUnavailableError } from '../p2p/errors.ts'
import { loadOrCreateNodeKey, nodeKeyPath } from '../p2p/nodekey.ts'
import type { Peering } from '../p2p/peering.ts'
import { parsePeerAddress, startPeering } from '../p2p/peering.ts'
import type { EmbeddedModelStore } from '../storage/embedded.ts'
import type { NetworkOpts } from '../storage/network.ts'
import type { ModelStore } from '../storage/types.ts'
import type { CliOption } from './command.ts'
import { CliFlagError } from './errors.ts'

/** Peering of a node: on when a port or bootnodes are given. */
export interface P2POpts {
  /** TCP port to listen on; 0 picks a free one. */
  port: number
  /** Interface to listen on (default 127.0.0.1). */
  addr?: string
  /** Peers to connect to and keep connected (multiaddrs ending in /p2p/<peer id>). */
  bootnodes?: string[]
}

/** The flags, geth's names where geth has one. */
export const P2P_OPTIONS: CliOption[] = [
  {
    flags: '--p2p.port <port>',
    description: 'peer with other Lattice nodes (libp2p TCP) on this port; 0 picks a free one (default: no peering)',
  },
  {
    flags: '--p2p.addr <ip>',
    description: 'interface peers connect to; 0.0.0.0 to accept other hosts',
    default: '127.0.0.1',
  },
  {
    flags: '--bootnodes <multiaddrs>',
    description:
      'comma-separated peers to connect to, e.g. /ip4/127.0.0.1/tcp/30303/p2p/12D3KooW... (turns peering on)',
  },
]

/** Read the peering flags from commander's options (keys keep their dots); undefined when peering is off. */
export function parseP2PFlags(opts: Record<string, unknown>): P2POpts | undefined {
  const rawPort = opts['p2p.port']
  const bootnodes = String(opts.bootnodes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (rawPort === undefined && bootnodes.length === 0) return undefined
  const port = rawPort === undefined ? 0 : Number(rawPort)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliFlagError(`--p2p.port ${rawPort} is not a port number. Pass an integer from 0 to 65535.`)
  }
  const addr = String(opts['p2p.addr'] ?? '127.0.0.1')
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(addr)) {
    throw new CliFlagError(`--p2p.addr ${addr} is not an IPv4 address. Pass e.g. 127.0.0.1 or 0.0.0.0.`)
  }
  return { port, addr, bootnodes }
}

/** Check every bootnode address before anything starts, so a typo is a CLI error and not a silent retry loop. */
export async function checkBootnodes(p2p: P2POpts): Promise<void> {
  for (const b of p2p.bootnodes ?? []) {
    try {
      await parsePeerAddress(b)
    } catch (err) {
      throw new CliFlagError(`--bootnodes: ${(err as Error).message}`)
    }
  }
}

/** The model store's network options for a peering node: its listen address and the datadir's node key. */
export async function p2pNetworkOpts(datadir: string, p2p: P2POpts, base: NetworkOpts = {}): Promise<NetworkOpts> {
  await checkBootnodes(p2p)
  return {
    ...base,
    listen: [`/ip4/${p2p.addr ?? '127.0.0.1'}/tcp/${p2p.port}`],
    privateKey: await loadOrCreateNodeKey(nodeKeyPath(datadir)),
  }
}

const line = (s: string) => process.stderr.write(`${new Date().toISOString()} P2P ${s}\n`)

/** Start peering on the store's libp2p node (the one bitswap serves model bytes on). */
export async function attachPeering(opts: {
  store: ModelStore
  node: LatticeNode
  p2p: P2POpts
  clientVersion: string
  log?: (line: string) => void
}): Promise<Peering> {
  const network = (opts.store as Partial<EmbeddedModelStore>).network
  if (!network) throw new PeeringUnavailableError('the model store has no libp2p node (an external Kubo store)')
  return startPeering({
    libp2p: network.libp2p,
    node: opts.node,
    bootnodes: opts.p2p.bootnodes,
    clientVersion: opts.clientVersion,
    log: opts.log ?? line,
  })
}
