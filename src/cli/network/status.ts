// `lattice network status` and `down`: what each node reports (execution head, state root, finalized block,
// peers; consensus head slot, finalized checkpoint, peers), and stopping every process the network started.
import { rpcCall } from '../model-client.ts'
import type { NetworkState } from './layout.ts'
import { type LodestarStatus, lodestarStatus } from './lodestar.ts'
import { isOurs, stopProcesses } from './processes.ts'

/** One block as the status shows it. */
export interface BlockRef {
  number: number
  hash: string
  stateRoot: string
}

/** What one validator's two processes report; a field is absent when that process does not answer. */
export interface NodeStatus {
  index: number
  el: { running: boolean; rpcUrl: string; head?: BlockRef; finalized?: BlockRef | null; peers?: number; error?: string }
  cl: { running: boolean; restUrl: string; status?: LodestarStatus; error?: string }
}

async function block(url: string, tag: string): Promise<BlockRef | null> {
  const b = await rpcCall<{ number: string; hash: string; stateRoot: string } | null>(url, 'eth_getBlockByNumber', [
    tag,
    false,
  ])
  return b ? { number: Number(b.number), hash: b.hash, stateRoot: b.stateRoot } : null
}

/** Ask every node of the network for its status (in parallel; a dead process is reported, not an error). */
export async function networkStatus(state: NetworkState): Promise<NodeStatus[]> {
  return Promise.all(
    state.nodes.map(async ({ index, el, cl }) => {
      const rpcUrl = `http://127.0.0.1:${el.rpcPort}`
      const out: NodeStatus = {
        index,
        el: { running: isOurs(el.pid, state.dir), rpcUrl },
        cl: { running: isOurs(cl.pid, state.dir), restUrl: `http://127.0.0.1:${cl.restPort}` },
      }
      if (out.el.running) {
        try {
          const [head, finalized, peers] = await Promise.all([
            block(rpcUrl, 'latest'),
            // before the consensus client finalizes anything the tag is unknown to the node
            block(rpcUrl, 'finalized').catch(() => null),
            rpcCall<string>(rpcUrl, 'net_peerCount'),
          ])
          out.el = { ...out.el, head: head ?? undefined, finalized, peers: Number(peers) }
        } catch (err) {
          out.el.error = (err as Error).message
        }
      }
      if (out.cl.running) {
        try {
          out.cl.status = await lodestarStatus(cl.restPort)
        } catch (err) {
          out.cl.error = (err as Error).message
        }
      }
      return out
    }),
  )
}

/** A fixed-width table of the status, one line per node. */
export function formatStatus(rows: NodeStatus[]): string {
  const short = (h?: string) => (h ? `${h.slice(0, 10)}…` : '-')
  const lines = [
    'node  EL head              state root    finalized  peers | CL head slot  finalized (epoch root)   peers',
  ]
  for (const r of rows) {
    const el = r.el.running
      ? r.el.head
        ? `#${String(r.el.head.number).padEnd(6)} ${short(r.el.head.hash)}  ${short(r.el.head.stateRoot)}  ${String(r.el.finalized?.number ?? '-').padEnd(9)}  ${String(r.el.peers ?? '-').padEnd(5)}`
        : `error: ${r.el.error ?? 'no answer'}`
      : 'stopped'
    const status = r.cl.status
    const cl = r.cl.running
      ? status
        ? `${String(status.headSlot).padEnd(13)} ${String(status.finalized.epoch).padEnd(5)} ${short(status.finalized.root)}  ${status.peers}`
        : `error: ${r.cl.error ?? 'no answer'}`
      : 'stopped'
    lines.push(`${String(r.index + 1).padEnd(5)} ${el.padEnd(63)} | ${cl}`)
  }
  return lines.join('\n')
}

/** Stop every process of the network: Lodestars first (they stop driving), then the Lattice nodes. */
export async function networkDown(
  state: NetworkState,
  opts: { graceMs?: number; onProgress?: (line: string) => void } = {},
): Promise<{ label: string; pid: number; killed: boolean }[]> {
  const cls = state.nodes.map((x) => ({ pid: x.cl.pid, label: `Lodestar ${x.index + 1}` }))
  const els = state.nodes.map((x) => ({ pid: x.el.pid, label: `Lattice node ${x.index + 1}` }))
  const stopped = await stopProcesses(cls, state.dir, opts)
  stopped.push(...(await stopProcesses(els, state.dir, opts)))
  return stopped
}
