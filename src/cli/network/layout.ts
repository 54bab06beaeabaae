// Where a local network keeps its files, and network.json: what `up` started (commands, pids, ports) so that
// `down` and `status` (and tests that restart one process) find every piece again.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { NoNetworkError } from './errors.ts'

/** One process of the network, as started: enough to stop it, or start it again the same way. */
export interface ProcessEntry {
  /** Executable and arguments. */
  command: string[]
  /** Working directory (Lodestar writes genesis.ssz into it). */
  cwd: string
  /** File its stdout and stderr are appended to. */
  log: string
  /** Process id (also its process group: every process starts in a group of its own). */
  pid: number
}

/** The execution side of one validator: a `lattice node` with the Engine API and peering. */
export interface ExecutionNode extends ProcessEntry {
  datadir: string
  rpcPort: number
  authPort: number
  p2pPort: number
  /** Its libp2p peer address (`/ip4/127.0.0.1/tcp/<port>/p2p/<peer id>`), the other nodes' bootnode. */
  enode: string
  jwtSecretFile: string
  /** Address of the validator key that signs inference roots (a `config.lattice.validators` entry). */
  validator: string
  validatorKeyFile: string
}

/** The consensus side of one validator: a `lodestar dev` running one interop validator. */
export interface ConsensusNode extends ProcessEntry {
  dataDir: string
  restPort: number
  p2pPort: number
  /** Interop validator index this node runs. */
  validatorIndex: number
  /** libp2p peer id, once it answered /eth/v1/node/identity. */
  peerId?: string
}

/** network.json. */
export interface NetworkState {
  version: 1
  dir: string
  chainId: string
  /** The execution genesis block hash (Lodestar's --genesisEth1Hash). */
  genesisHash: string
  /** The consensus genesis time (seconds), the same for every Lodestar. */
  genesisTime: number
  slotSeconds: number
  validators: number
  lodestar: string
  /** When `up` finished, ISO time. */
  startedAt: string
  nodes: { index: number; el: ExecutionNode; cl: ConsensusNode }[]
  /** The example models registered through node 1. */
  examples: { name: string; modelId: string; cid: string }[]
}

/** The files of a network directory. */
export function networkPaths(dir: string) {
  const root = resolve(dir)
  return {
    root,
    state: join(root, 'network.json'),
    genesis: join(root, 'genesis.json'),
    logs: join(root, 'logs'),
    el: (i: number) => join(root, `el-${i + 1}`),
    cl: (i: number) => join(root, `cl-${i + 1}`),
    elLog: (i: number) => join(root, 'logs', `el-${i + 1}.log`),
    clLog: (i: number) => join(root, 'logs', `cl-${i + 1}.log`),
  }
}

/** Read DIR/network.json. */
export function readNetworkState(dir: string): NetworkState {
  const p = networkPaths(dir)
  if (!existsSync(p.state)) throw new NoNetworkError(p.root)
  return JSON.parse(readFileSync(p.state, 'utf8')) as NetworkState
}

/** Write DIR/network.json (beside, then renamed: `down` never reads half a file). */
export function writeNetworkState(state: NetworkState): void {
  const p = networkPaths(state.dir)
  writeFileSync(`${p.state}.tmp`, `${JSON.stringify(state, null, 2)}\n`)
  renameSync(`${p.state}.tmp`, p.state)
}
