import { openDatadirChain } from '../chain/datadir.ts'
import { LatticeNode } from '../chain/node.ts'
import type { RpcServer } from '../rpc/server.ts'
import { startRpcServer } from '../rpc/server.ts'
import { testingMethods } from '../rpc/testing.ts'
import { CLIENT_VERSION } from './devnet.ts'

/** How a `lattice node` produces blocks. */
export type MiningMode = { kind: 'auto' } | { kind: 'off' } | { kind: 'interval'; seconds: number }

/** Options for {@link startNode}. */
export interface StartNodeOpts {
  datadir: string
  host?: string
  /** 0 picks a free port. Default 8545. */
  port?: number
  /**
   * 'auto' (default): a single-node chain that mines one block per transaction, as the devnet does;
   * 'off': transactions wait in the pool (a node that follows an external block source);
   * 'interval': a block every N seconds.
   */
  mining?: MiningMode
  /** Serve geth's testing_* namespace (testing_buildBlockV1); off by default, as in geth. */
  testingApi?: boolean
}

export interface RunningNode {
  node: LatticeNode
  server: RpcServer
  close(): Promise<void>
}

/** Build a validator node from an initialised datadir: no dev keys, the full RPC. */
export async function startNode(opts: StartNodeOpts): Promise<RunningNode> {
  const chain = await openDatadirChain(opts.datadir)
  const mining = opts.mining ?? { kind: 'auto' }
  const node = new LatticeNode({
    chain,
    devAccounts: [],
    automine: mining.kind === 'auto',
    blockTime: mining.kind === 'interval' ? mining.seconds : 0,
  })
  let server: RpcServer
  try {
    server = await startRpcServer({
      node,
      host: opts.host,
      port: opts.port,
      devnet: false,
      clientVersion: CLIENT_VERSION,
      extraMethods: opts.testingApi ? testingMethods(node) : undefined,
    })
  } catch (err) {
    await node.close()
    throw err
  }
  return {
    node,
    server,
    close: async () => {
      await server.close()
      await node.close()
    },
  }
}
