import { join } from 'node:path'
import { attachValidatorAttestor } from '../chain/attestor.ts'
import type { CallLimitOpts } from '../chain/call-limits.ts'
import type { Chain } from '../chain/chain.ts'
import { loadDatadirSpec, openDatadirChain } from '../chain/datadir.ts'
import { LatticeNode } from '../chain/node.ts'
import { openTxPoolJournal, TXPOOL_JOURNAL_FILE } from '../chain/txpool-journal.ts'
import { loadOrCreateJwtSecret } from '../engine/jwt.ts'
import type { EngineServer } from '../engine/server.ts'
import { startEngineServer } from '../engine/server.ts'
import type { Peering } from '../p2p/peering.ts'
import { keyAddress, parseKey } from '../proofs/attestation.ts'
import { NotAValidatorError } from '../proofs/errors.ts'
import type { MetricsServer } from '../rpc/metrics.ts'
import type { RpcServer } from '../rpc/server.ts'
import { startRpcServer } from '../rpc/server.ts'
import { testingMethods } from '../rpc/testing.ts'
import type { NetworkOpts } from '../storage/network.ts'
import type { ModelStore } from '../storage/types.ts'
import { CLIENT_VERSION } from './devnet.ts'
import { engineEthMethods } from './engine-eth.ts'
import { createLatticeRpcDeps } from './lattice-rpc.ts'
import { logAttestationFailure, logEngine, logMiningFailure } from './log.ts'
import type { MetricsOpts } from './metrics.ts'
import { createNodeMetrics, serveNodeMetrics } from './metrics.ts'
import type { P2POpts } from './p2p.ts'
import { attachPeering, p2pNetworkOpts } from './p2p.ts'
import { openInferenceStack } from './stack.ts'

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
  /** libp2p networking for the embedded IPFS store (peers to fetch models from). */
  ipfsNetwork?: NetworkOpts
  /** An external Kubo daemon instead of the embedded store. */
  ipfsApi?: string
  /** A genesis validator's key: the node signs each block's inference root with it (docs/proofs.md). */
  validatorKey?: string
  /** Serve the explorer page at /explorer on the RPC port (default true). */
  explorer?: boolean
  /** `--rpc.gascap` / `--rpc.evmtimeout` (geth's defaults: 50M gas, 5 s). */
  callLimits?: CallLimitOpts
  /** `--metrics`: serve Prometheus metrics there (default: none). */
  metrics?: MetricsOpts
  /** `--p2p.port` / `--bootnodes`: peer with other Lattice nodes (src/p2p); off by default. */
  p2p?: P2POpts
  /**
   * `--authrpc.*`: serve the Engine API (src/engine) so a consensus client drives the chain; the node then makes no
   * blocks of its own (mining is off whatever `mining` says).
   */
  authrpc?: AuthRpcOpts
}

/** Where and with which secret the Engine API is served. */
export interface AuthRpcOpts {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 8551; 0 picks a free port. */
  port?: number
  /** The JWT secret file (created when missing); default `<datadir>/jwtsecret`. */
  jwtSecretPath?: string
}

export interface RunningNode {
  node: LatticeNode
  server: RpcServer
  /** Printed at start when state inference runs on an accelerated provider. */
  notice?: string
  /** Where the Prometheus metrics are served (`--metrics`). */
  metricsUrl?: string
  /** Peering, when `p2p` was given. */
  peering?: Peering
  /** The node's model store (what peers fetch model bytes from). */
  store: ModelStore
  /** The Engine API server (`--authrpc.*`). */
  engine?: EngineServer
  /** The JWT secret file the Engine API uses, and whether this start created it. */
  jwtSecret?: { path: string; created: boolean }
  close(): Promise<void>
}

/** Build a validator node from an initialised datadir: no dev keys, the full RPC. */
export async function startNode(opts: StartNodeOpts): Promise<RunningNode> {
  const spec = loadDatadirSpec(opts.datadir)
  const stack = await openInferenceStack({
    datadir: opts.datadir,
    lattice: spec.lattice,
    network: opts.p2p ? await p2pNetworkOpts(opts.datadir, opts.p2p, opts.ipfsNetwork) : opts.ipfsNetwork,
    ipfsApi: opts.ipfsApi,
  })
  const metrics = createNodeMetrics(opts.metrics, stack)
  let chain: Chain
  try {
    chain = await openDatadirChain(opts.datadir, { inference: stack.inference })
  } catch (err) {
    await stack.close()
    throw err
  }
  if (opts.validatorKey && !attachValidatorAttestor(chain, [opts.validatorKey], logAttestationFailure)) {
    await chain.close()
    await stack.close()
    throw new NotAValidatorError(keyAddress(parseKey(opts.validatorKey)))
  }
  // with a consensus client attached, only it makes blocks
  const mining: MiningMode = opts.authrpc ? { kind: 'off' } : (opts.mining ?? { kind: 'auto' })
  const node = new LatticeNode({
    chain,
    devAccounts: [],
    automine: mining.kind === 'auto',
    blockTime: mining.kind === 'interval' ? mining.seconds : 0,
  })
  // interval mining reports a failed tick as 'error'; without a listener it would end the process
  node.on('error', logMiningFailure)
  // pending transactions survive a restart (geth's transactions.rlp)
  const journal = await openTxPoolJournal({
    path: join(opts.datadir, TXPOOL_JOURNAL_FILE),
    pool: node.pool,
    admit: (raw) => node.sendRawTransaction(raw),
  })
  let server: RpcServer | undefined
  let metricsServer: MetricsServer | undefined
  let peering: Peering | undefined
  let engine: EngineServer | undefined
  let engineEth: ReturnType<typeof engineEthMethods> | undefined
  let jwtSecret: RunningNode['jwtSecret']
  try {
    if (opts.p2p) {
      peering = await attachPeering({ store: stack.store, node, p2p: opts.p2p, clientVersion: CLIENT_VERSION })
    }
    // lattice_* for the model workflow: without dev keys, lattice_deployModel returns the unsigned registration
    const lattice = await createLatticeRpcDeps({
      node,
      datadir: opts.datadir,
      store: stack.store,
      modelCache: stack.modelCache,
      inference: stack.inference,
      stateProfile: stack.profile,
      clientVersion: CLIENT_VERSION,
      devnet: false,
    })
    server = await startRpcServer({
      node,
      host: opts.host,
      port: opts.port,
      devnet: false,
      clientVersion: CLIENT_VERSION,
      extraMethods: opts.testingApi ? testingMethods(node) : undefined,
      lattice,
      explorer: opts.explorer,
      callLimits: opts.callLimits,
      metrics,
      admin: peering,
    })
    metricsServer = await serveNodeMetrics(metrics, opts.metrics, node, stack)
    if (opts.authrpc) {
      const path = opts.authrpc.jwtSecretPath ?? join(opts.datadir, 'jwtsecret')
      const { secret, created } = loadOrCreateJwtSecret(path)
      jwtSecret = { path, created }
      engineEth = engineEthMethods(node)
      engine = await startEngineServer({
        node,
        jwtSecret: secret,
        extraMethods: engineEth.handlers,
        host: opts.authrpc.host,
        port: opts.authrpc.port,
        clientVersion: CLIENT_VERSION,
        log: logEngine,
      })
    }
  } catch (err) {
    engineEth?.close()
    await metricsServer?.close()
    await server?.close()
    await peering?.close()
    await node.close()
    await stack.close()
    throw err
  }
  return {
    node,
    server,
    notice: stack.notice,
    metricsUrl: metricsServer?.url,
    peering,
    store: stack.store,
    engine,
    jwtSecret,
    close: async () => {
      await engine?.close()
      engineEth?.close()
      await metricsServer?.close()
      await server.close()
      await peering?.close()
      journal.close()
      await node.close()
      await stack.close()
    },
  }
}
