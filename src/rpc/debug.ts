import type { LatticeNode } from '../chain/node.ts'
import type { Handlers } from './types.ts'

/** debug_* methods: raw encodings and transaction/block tracing (geth's shapes). */
export function debugMethods(_node: LatticeNode): Handlers {
  return {}
}
