import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { DevAccount } from '../chain/accounts.ts'
import { DEV_MNEMONIC, deriveDevAccounts } from '../chain/accounts.ts'
import { attachValidatorAttestor } from '../chain/attestor.ts'
import type { CallLimitOpts } from '../chain/call-limits.ts'
import { Chain } from '../chain/chain.ts'
import { recordDatadirSpec } from '../chain/datadir.ts'
import type { ChainSpec } from '../chain/genesis.ts'
import { loadChainSpec } from '../chain/genesis.ts'
import { LatticeNode } from '../chain/node.ts'
import { openTxPoolJournal, TXPOOL_JOURNAL_FILE } from '../chain/txpool-journal.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import type { MetricsServer } from '../rpc/metrics.ts'
import { setPinnerSummarySource } from '../rpc/pinner.ts'
import type { RpcServer } from '../rpc/server.ts'
import { startRpcServer } from '../rpc/server.ts'
import type { ModelCache } from '../storage/cache.ts'
import type { NetworkOpts } from '../storage/network.ts'
import { pinningStateFile } from '../storage/paths.ts'
import { createPinningManager } from '../storage/pinning.ts'
import type { ModelStore } from '../storage/types.ts'
import { createLatticeRpcDeps } from './lattice-rpc.ts'
import { logAttestationFailure, logMiningFailure } from './log.ts'
import type { MetricsOpts } from './metrics.ts'
import { createNodeMetrics, serveNodeMetrics } from './metrics.ts'
import type { RunningPinner } from './pinner.ts'
import { startDevnetVerifier, startPinner } from './pinner.ts'
import { openInferenceStack } from './stack.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/** `Lattice/v<version>/<platform>/node<version>`, geth's clientVersion shape. */
export const CLIENT_VERSION = `Lattice/v${pkg.version}/${process.platform}-${process.arch}/node${process.versions.node}`

/**
 * The anvil release whose development methods (anvil_*, hardhat_*, evm_*) the devnet implements and was tested
 * against (docs/hardhat.md).
 */
export const ANVIL_COMPAT_VERSION = 'v1.7.1'

/**
 * The devnet's `web3_clientVersion`, in the browser user-agent convention: "speaks anvil's development API, is
 * Lattice". Hardhat's network helpers accept a node only if this string starts with hardhat, anvil or zksync;
 * code that must tell Lattice apart reads the `(compatible; Lattice/` part or `anvil_nodeInfo`/`hardhat_metadata`.
 */
export const DEVNET_CLIENT_VERSION = `anvil/${ANVIL_COMPAT_VERSION} (compatible; ${CLIENT_VERSION})`

/** `--client-version`: the anvil-compatible answer (default) or the node's plain `Lattice/v…`. */
export type DevnetClientVersion = 'anvil' | 'lattice'

/** Options for {@link startDevnet}. */
export interface DevnetOpts {
  datadir: string
  host?: string
  /** 0 picks a free port (tests). Default 8545. */
  port?: number
  /** Delete the datadir first. */
  reset?: boolean
  /** Interval mining period in seconds; 0 = automine only. */
  blockTime?: number
  /** Automine each transaction (default true; interval mining turns it off unless asked). */
  automine?: boolean
  spec?: ChainSpec
  /** libp2p networking for the embedded IPFS store, so other nodes can fetch models from this one. */
  ipfsNetwork?: NetworkOpts
  /** Run the IPFSIncentives pinner with this account key (docs/storage.md). Default: no pinner. */
  pinnerKey?: string
  /** Serve the explorer page at /explorer on the RPC port (default true). */
  explorer?: boolean
  /** `--rpc.gascap` / `--rpc.evmtimeout` (geth's defaults: 50M gas, 5 s). */
  callLimits?: CallLimitOpts
  /** `--metrics`: serve Prometheus metrics there (default: none). */
  metrics?: MetricsOpts
  /** What `web3_clientVersion` answers: {@link DEVNET_CLIENT_VERSION} (default) or {@link CLIENT_VERSION}. */
  clientVersion?: DevnetClientVersion
  /**
   * Runs before the RPC port opens, against a private server on a free loopback port (`devnet.server` during the
   * call): the example deployments send from dev account 0, and a user's client must not race them for its nonces.
   */
  beforeListen?: (devnet: Devnet) => Promise<void>
}

export interface Devnet {
  node: LatticeNode
  server: RpcServer
  accounts: DevAccount[]
  spec: ChainSpec
  /** The datadir's embedded IPFS store. */
  store: ModelStore
  /** Materialised, verified model files (local model cache). */
  modelCache: ModelCache
  inference: InferencePrecompile
  /** Printed at start when the chain runs state inference on an accelerated provider. */
  notice?: string
  /** Where the Prometheus metrics are served (`--metrics`). */
  metricsUrl?: string
  close(): Promise<void>
}

/** Build a devnet: chain on the datadir, node with dev accounts, RPC server. */
export async function startDevnet(opts: DevnetOpts): Promise<Devnet> {
  if (opts.reset) rmSync(opts.datadir, { recursive: true, force: true })
  const spec = opts.spec ?? loadChainSpec()
  const accounts = deriveDevAccounts(spec.lattice.devMnemonic ?? DEV_MNEMONIC, spec.lattice.devAccounts ?? 10)
  const stack = await openInferenceStack({ datadir: opts.datadir, network: opts.ipfsNetwork, lattice: spec.lattice })
  const { store, modelCache, inference } = stack
  const metrics = createNodeMetrics(opts.metrics, stack)
  let chain: Chain
  try {
    chain = await Chain.open({ datadir: opts.datadir, spec, inference })
  } catch (err) {
    await store.close()
    throw err
  }
  recordDatadirSpec(opts.datadir, spec)
  // the dev account that is a genesis validator signs inference roots (docs/proofs.md)
  attachValidatorAttestor(
    chain,
    accounts.map((a) => Buffer.from(a.privateKey).toString('hex')),
    logAttestationFailure,
  )
  const blockTime = opts.blockTime ?? 0
  const node = new LatticeNode({
    chain,
    devAccounts: accounts,
    automine: opts.automine ?? blockTime === 0,
    blockTime,
  })
  // interval mining reports a failed tick as 'error'; without a listener it would end the process
  node.on('error', logMiningFailure)
  // pending transactions survive a restart (geth's transactions.rlp)
  const journal = await openTxPoolJournal({
    path: join(opts.datadir, TXPOOL_JOURNAL_FILE),
    pool: node.pool,
    admit: (raw) => node.sendRawTransaction(raw),
  })
  const pinning = createPinningManager({ store, stateFile: pinningStateFile(opts.datadir) })
  let server: RpcServer
  let pinner: RunningPinner | undefined
  let metricsServer: MetricsServer | undefined
  let verifier: RunningPinner | undefined
  try {
    const lattice = await createLatticeRpcDeps({
      node,
      pinning,
      datadir: opts.datadir,
      store,
      modelCache,
      inference,
      stateProfile: stack.profile,
      clientVersion: CLIENT_VERSION,
      devnet: true,
    })
    const serve = (host: string | undefined, port: number | undefined, withMetrics: boolean) =>
      startRpcServer({
        node,
        host,
        port,
        devnet: true,
        clientVersion: opts.clientVersion === 'lattice' ? CLIENT_VERSION : DEVNET_CLIENT_VERSION,
        lattice,
        explorer: opts.explorer,
        callLimits: opts.callLimits,
        metrics: withMetrics ? metrics : undefined,
      })
    if (opts.beforeListen) {
      const early = await serve('127.0.0.1', 0, false)
      try {
        await opts.beforeListen({
          node,
          server: early,
          accounts,
          spec,
          store,
          modelCache,
          inference,
          close: early.close,
        })
      } finally {
        await early.close()
      }
    }
    server = await serve(opts.host, opts.port, true)
    metricsServer = await serveNodeMetrics(metrics, opts.metrics, node, stack)
    if (opts.pinnerKey) {
      pinner = startPinner({ node, rpcUrl: server.url, key: opts.pinnerKey, store, pins: pinning })
      setPinnerSummarySource(node, pinner.pinner.summary)
      // the dev validator verifies packages, else the pinner's models would never become claimable
      verifier = startDevnetVerifier({
        node,
        rpcUrl: server.url,
        accounts,
        validators: spec.lattice.validators ?? [],
        pinnerKey: opts.pinnerKey,
        store,
        pins: pinning,
      })
    }
  } catch (err) {
    await node.close()
    await store.close()
    throw err
  }
  return {
    node,
    server,
    accounts,
    spec,
    store,
    modelCache,
    inference,
    notice: stack.notice,
    metricsUrl: metricsServer?.url,
    close: async () => {
      await metricsServer?.close()
      await pinner?.stop()
      await verifier?.stop()
      await server.close()
      journal.close()
      await node.close()
      await store.close()
    },
  }
}
