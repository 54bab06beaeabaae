// geth's admin_* peer methods (admin_nodeInfo, admin_peers, admin_addPeer, admin_removePeer) and the peer count
// net_peerCount reports, over whatever runs the node's peering (src/p2p, composed by the CLI).
import { intToHex } from '@ethereumjs/util'
import { LatticeError } from '../errors.ts'
import { paramList } from './codec.ts'
import { invalidParams } from './errors.ts'
import type { Handlers } from './types.ts'

/** What the admin namespace needs from the node's peering layer. */
export interface AdminPeering {
  nodeInfo(): unknown
  peers(): Promise<unknown[]>
  addPeer(addr: string): Promise<boolean>
  removePeer(addr: string): Promise<boolean>
  peerCount(): number
}

/** admin_* over `peering`; net_peerCount is replaced by the real count. */
export function adminMethods(peering: AdminPeering): Handlers {
  const peerAddress = (p: unknown, method: string) => {
    const [addr] = paramList(p, method, 1, 1)
    if (typeof addr !== 'string') throw invalidParams(`${method}: the peer address must be a string`)
    return addr
  }
  // a malformed address is the caller's mistake: -32602, with the reason
  const asParamError = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      if (err instanceof LatticeError && err.code === 'P2P_INVALID_PEER_ADDRESS') throw invalidParams(err.shortMessage)
      throw err
    }
  }
  return {
    admin_nodeInfo: async (p) => {
      paramList(p, 'admin_nodeInfo', 0, 0)
      return peering.nodeInfo()
    },
    admin_peers: async (p) => {
      paramList(p, 'admin_peers', 0, 0)
      return peering.peers()
    },
    admin_addPeer: async (p) => {
      const addr = peerAddress(p, 'admin_addPeer')
      return asParamError(() => peering.addPeer(addr))
    },
    admin_removePeer: async (p) => {
      const addr = peerAddress(p, 'admin_removePeer')
      return asParamError(() => peering.removePeer(addr))
    },
    net_peerCount: async () => intToHex(peering.peerCount()),
  }
}
