import type { LatticeNode } from '../chain/node.ts'
import type { Handlers } from './types.ts'

/** net_* methods. */
export function netMethods(node: LatticeNode): Handlers {
  return {
    net_version: async () => node.chain.chainId.toString(),
    net_listening: async () => true,
    net_peerCount: async () => '0x0',
  }
}
