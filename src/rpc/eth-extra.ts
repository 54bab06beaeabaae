import type { LatticeNode } from '../chain/node.ts'
import type { Handlers } from './types.ts'

/** eth_* methods for validators: proofs, fork config, simulation. */
export function ethExtraMethods(_node: LatticeNode): Handlers {
  return {}
}
