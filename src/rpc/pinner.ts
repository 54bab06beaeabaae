// lattice_pinnerSummary: what this node's pinner holds and has earned in IPFSIncentives (docs/storage.md).
import type { LatticeNode } from '../chain/node.ts'
import type { PinnerSummary } from '../storage/pinner.ts'
import { paramList } from './codec.ts'
import { RpcError } from './errors.ts'
import type { Handlers } from './types.ts'

const sources = new WeakMap<LatticeNode, () => Promise<PinnerSummary>>()

/** Serve `summary` as this node's pinner (the CLI calls it when the node runs with a pinner key). */
export function setPinnerSummarySource(node: LatticeNode, summary: () => Promise<PinnerSummary>): void {
  sources.set(node, summary)
}

/** The pinner part of the lattice namespace. */
export function pinnerMethods(node: LatticeNode): Handlers {
  return {
    lattice_pinnerSummary: async (p) => {
      paramList(p, 'lattice_pinnerSummary', 0, 0)
      const summary = sources.get(node)
      if (!summary) throw new RpcError(-32000, 'this node runs no pinner: start it with a pinner key (--pinner-key)')
      return summary()
    },
  }
}
