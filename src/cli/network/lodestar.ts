// Lodestar, the consensus client of a local network: where its binary is, the `lodestar dev` command line of one
// validator, and the few REST calls the network needs (identity, connect_peer, head, finality, peers).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CONTRACTS_ROOT } from '../../chain/contracts.ts'
import { LodestarMissingError, NetworkError } from './errors.ts'

/** Where `scripts/lodestar.sh` installs Lodestar 1.5.1. */
export const DEFAULT_LODESTAR = join(CONTRACTS_ROOT, '.cache', 'lodestar', 'lodestar')

/** The lodestar binary: `--lodestar`, else $LATTICE_LODESTAR, else the repository's .cache/lodestar. */
export function lodestarBinary(flag?: string): string {
  const path = flag ?? process.env.LATTICE_LODESTAR ?? DEFAULT_LODESTAR
  if (!existsSync(path)) throw new LodestarMissingError(path)
  return path
}

/** What one `lodestar dev` runs with. */
export interface LodestarArgs {
  validators: number
  /** The interop validator this node runs (0-based). */
  validatorIndex: number
  genesisTime: number
  genesisHash: string
  slotSeconds: number
  authPort: number
  jwtSecretFile: string
  restPort: number
  p2pPort: number
  dataDir: string
  /** Fee recipient of the blocks this validator proposes: its execution validator address, so blocks name them. */
  feeRecipient: string
}

/**
 * The `lodestar dev` command line of one validator of N (the flags measured in issue 16): altair, bellatrix and
 * capella from epoch 0, so the chain is post-merge at Shanghai from genesis on the execution genesis hash.
 */
export function lodestarCommand(binary: string, a: LodestarArgs): string[] {
  return [
    binary,
    'dev',
    '--genesisValidators',
    String(a.validators),
    '--startValidators',
    `${a.validatorIndex}..${a.validatorIndex}`,
    '--genesisTime',
    String(a.genesisTime),
    '--genesisEth1Hash',
    a.genesisHash,
    '--params.SECONDS_PER_SLOT',
    String(a.slotSeconds),
    '--params.ALTAIR_FORK_EPOCH',
    '0',
    '--params.BELLATRIX_FORK_EPOCH',
    '0',
    '--params.CAPELLA_FORK_EPOCH',
    '0',
    // the execution chain is post-merge from genesis (terminalTotalDifficulty 0); Lodestar's dev default (2^256-2^10)
    // only makes engine_exchangeTransitionConfigurationV1 disagree
    '--params.TERMINAL_TOTAL_DIFFICULTY',
    '0',
    '--execution.urls',
    `http://127.0.0.1:${a.authPort}`,
    '--jwt-secret',
    a.jwtSecretFile,
    '--listenAddress',
    '127.0.0.1',
    '--port',
    String(a.p2pPort),
    '--rest.port',
    String(a.restPort),
    '--server',
    `http://127.0.0.1:${a.restPort}`,
    '--rest.namespace',
    '*',
    '--dataDir',
    a.dataDir,
    '--suggestedFeeRecipient',
    a.feeRecipient,
  ]
}

/** GET or POST a Lodestar REST path; the parsed `data`, or a NetworkError naming the call. */
export async function lodestarRest<T = any>(
  restPort: number,
  path: string,
  opts: { method?: 'GET' | 'POST'; signal?: AbortSignal } = {},
): Promise<T> {
  const url = `http://127.0.0.1:${restPort}${path}`
  let res: Response
  try {
    res = await fetch(url, { method: opts.method ?? 'GET', signal: opts.signal ?? AbortSignal.timeout(10_000) })
  } catch (err) {
    throw new NetworkError('LODESTAR_UNREACHABLE', `Lodestar at ${url} does not answer (${(err as Error).message}).`)
  }
  const text = await res.text()
  if (!res.ok) throw new NetworkError('LODESTAR_REST', `Lodestar ${path} answered HTTP ${res.status}: ${text}`)
  return (text ? (JSON.parse(text) as { data: T }).data : undefined) as T
}

/** A Lodestar node's libp2p identity. */
export async function lodestarIdentity(restPort: number): Promise<{ peerId: string; addresses: string[] }> {
  const d = await lodestarRest<{ peer_id: string; p2p_addresses: string[] }>(restPort, '/eth/v1/node/identity')
  return { peerId: d.peer_id, addresses: d.p2p_addresses }
}

/** Connect Lodestar at `restPort` to a peer (peering by ENR alone gave 0 peers on these machines). */
export async function connectLodestarPeer(restPort: number, peerId: string, multiaddr: string): Promise<void> {
  const q = new URLSearchParams({ peerId, multiaddr })
  await lodestarRest(restPort, `/eth/v1/lodestar/connect_peer?${q}`, { method: 'POST' })
}

/** Head slot, finalized checkpoint and connected peers of one Lodestar node. */
export interface LodestarStatus {
  headSlot: number
  headRoot: string
  finalized: { epoch: number; root: string }
  peers: number
}

/** Ask one Lodestar node for its head, finality and peer count. */
export async function lodestarStatus(restPort: number): Promise<LodestarStatus> {
  const [head, finality, peers] = await Promise.all([
    lodestarRest<{ root: string; header: { message: { slot: string } } }>(restPort, '/eth/v1/beacon/headers/head'),
    lodestarRest<{ finalized: { epoch: string; root: string } }>(
      restPort,
      '/eth/v1/beacon/states/head/finality_checkpoints',
    ),
    lodestarRest<{ connected: string }>(restPort, '/eth/v1/node/peer_count'),
  ])
  return {
    headSlot: Number(head.header.message.slot),
    headRoot: head.root,
    finalized: { epoch: Number(finality.finalized.epoch), root: finality.finalized.root },
    peers: Number(peers.connected),
  }
}
