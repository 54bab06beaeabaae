import type { LatticeNode } from '../chain/node.ts'
import type { Handlers } from './types.ts'

/** eth_simulateV1. */
export function simulateMethods(_node: LatticeNode): Handlers {
  return {}
}
