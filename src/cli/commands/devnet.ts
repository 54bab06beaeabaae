import { bytesToHex } from '@ethereumjs/util'
import { defaultDatadir } from '../../storage/paths.ts'
import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { IPFS_NETWORK_OPTIONS, parseIpfsNetworkFlags } from '../ipfs-network-flags.ts'
import { METRICS_OPTIONS, parseMetricsFlags } from '../metrics.ts'
import { parseRpcLimitFlags, RPC_LIMIT_OPTIONS } from '../rpc-flags.ts'
import { runUntilSignal } from '../signals.ts'

/** `lattice devnet`: a local chain with unlocked dev accounts, like anvil. */
export const devnetCommand: CliCommand = {
  name: 'devnet',
  description: 'Start a local development chain with funded, unlocked accounts',
  options: [
    { flags: '--port <port>', description: 'RPC port (HTTP and WebSocket)', default: '8545' },
    { flags: '--host <host>', description: 'interface to bind; use 0.0.0.0 to expose the node', default: '127.0.0.1' },
    { flags: '--datadir <dir>', description: 'data directory (default: $LATTICE_DATADIR or ~/.lattice/devnet)' },
    { flags: '--reset', description: 'delete the data directory first' },
    { flags: '--block-time <seconds>', description: 'mine a block every N seconds instead of one per transaction' },
    {
      flags: '--load-state <file>',
      description: "merge this state dump (anvil_dumpState's lines, or anvil's JSON) into the head state at start",
    },
    {
      flags: '--dump-state <file>',
      description: 'write the head state to this file at exit (a directory: <dir>/state.json)',
    },
    { flags: '--no-examples', description: 'do not deploy the example models and contracts on first start' },
    {
      flags: '--client-version <style>',
      description:
        "web3_clientVersion: 'anvil' answers anvil/v1.7.1 (compatible; Lattice/v…) so Hardhat's network helpers accept the devnet, 'lattice' answers Lattice/v…",
      default: 'anvil',
    },
    { flags: '--no-explorer', description: 'do not serve the explorer page at /explorer on the RPC port' },
    ...RPC_LIMIT_OPTIONS,
    ...METRICS_OPTIONS,
    ...IPFS_NETWORK_OPTIONS,
    {
      flags: '--pinner-key <hex>',
      description: 'run the IPFSIncentives pinner with this account key (claims, answers challenges; docs/storage.md)',
    },
  ],
  async run(_args, opts, io) {
    const port = Number(opts.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new CliFlagError(`--port ${opts.port} is not a port number. Pass an integer from 0 to 65535.`)
    }
    const blockTime = opts.blockTime === undefined ? 0 : Number(opts.blockTime)
    if (!Number.isFinite(blockTime) || blockTime < 0) {
      throw new CliFlagError(`--block-time ${opts.blockTime} is not a number of seconds. Pass e.g. --block-time 2.`)
    }
    const clientVersion = opts.clientVersion ?? 'anvil'
    if (clientVersion !== 'anvil' && clientVersion !== 'lattice') {
      throw new CliFlagError(`--client-version ${clientVersion} is not a style. Pass anvil or lattice.`)
    }
    const datadir = (opts.datadir as string | undefined) ?? defaultDatadir()
    const started = performance.now()
    const { startDevnet } = await import('../devnet.ts')
    const pinnerKey = opts.pinnerKey as string | undefined
    if (pinnerKey !== undefined && !/^(0x)?[0-9a-fA-F]{64}$/.test(pinnerKey)) {
      throw new CliFlagError('--pinner-key is not a private key. Pass 0x followed by 64 hex digits.')
    }
    const ipfsNetwork = parseIpfsNetworkFlags(opts)
    const loadState = opts.loadState as string | undefined
    const dumpState = opts.dumpState as string | undefined
    let examples: DevnetStartup['examples']
    let deployMs = 0
    const devnet = await startDevnet({
      datadir,
      host: opts.host,
      port,
      reset: Boolean(opts.reset),
      blockTime,
      pinnerKey,
      explorer: opts.explorer !== false,
      callLimits: parseRpcLimitFlags(opts),
      metrics: parseMetricsFlags(opts),
      ipfsNetwork,
      clientVersion,
      // the state is loaded and the examples deployed from dev account 0 before the port opens: no user client
      // sees the state before it is loaded, nor races the deployments for account 0's nonces
      beforeListen:
        opts.examples === false && loadState === undefined
          ? undefined
          : async (early) => {
              if (loadState !== undefined) {
                const { loadStateFile } = await import('../devnet-state-file.ts')
                await loadStateFile(early.node, loadState)
              }
              if (opts.examples === false) return
              const { deployDevnetExamples } = await import('../devnet-examples.ts')
              const t = performance.now()
              try {
                const ex = await deployDevnetExamples(early, datadir)
                deployMs = Math.round(performance.now() - t)
                examples = {
                  fresh: ex.fresh,
                  deployMs: ex.fresh ? deployMs : undefined,
                  models: ex.models.map((m) => ({ name: m.name, modelId: m.modelId, cid: m.cid })),
                  contracts: ex.contracts.map((c) => ({ name: c.name, address: c.address })),
                }
              } catch (err) {
                deployMs = Math.round(performance.now() - t)
                examples = { error: (err as { shortMessage?: string }).shortMessage ?? (err as Error).message }
              }
            },
    })
    const mining = blockTime > 0 ? `every ${blockTime}s` : 'automine (one block per transaction)'
    // the chain's start, without the example deployments (reported on their own)
    const startedMs = Math.round(performance.now() - started) - deployMs
    const startup: DevnetStartup = {
      chainId: devnet.node.chain.chainId.toString(),
      rpcUrl: devnet.server.url,
      wsUrl: devnet.server.wsUrl,
      datadir,
      head: devnet.node.chain.head.header.number.toString(),
      mining: blockTime > 0 ? { kind: 'interval', seconds: blockTime } : { kind: 'auto' },
      startedMs,
      accounts: devnet.accounts.map((a) => ({
        address: a.address.toString(),
        privateKey: bytesToHex(a.privateKey),
        balance: '10000000000000000000000',
      })),
      mnemonic: devnet.spec.lattice.devMnemonic,
      derivationPath: "m/44'/60'/0'/0/",
      examples,
      notice: devnet.notice,
      metricsUrl: devnet.metricsUrl,
      ipfs: (devnet.store as { network?: { multiaddrs(): string[] } }).network?.multiaddrs(),
      explorerUrl: opts.explorer !== false ? `${devnet.server.url}/explorer/` : undefined,
    }
    // signals are handled before the startup is printed: a supervisor may send SIGTERM as soon as it reads it
    let dumpFailed = false
    const stopped = runUntilSignal(async () => {
      if (dumpState !== undefined) {
        // anvil's --dump-state: the state at exit, before the node stops
        try {
          const { dumpStateFile } = await import('../devnet-state-file.ts')
          const d = await dumpStateFile(devnet.node, dumpState)
          io.stderr.write(`State dumped to ${dumpState} (${d.accounts} accounts, state root ${d.stateRoot})\n`)
        } catch (err) {
          dumpFailed = true
          io.stderr.write(`Could not dump the state to ${dumpState}: ${(err as Error).message}\n`)
        }
      }
      await devnet.close()
    })
    // a long-running command: with --json its startup is the one JSON document; it then serves until a signal
    printResult(io, startup, startupText(startup, mining))
    await stopped
    return dumpFailed ? 1 : 0
  },
}

/** What `lattice devnet` prints once it serves: the text below, or this object with --json. */
interface DevnetStartup {
  chainId: string
  rpcUrl: string
  wsUrl: string
  datadir: string
  head: string
  mining: { kind: 'auto' } | { kind: 'interval'; seconds: number }
  startedMs: number
  accounts: { address: string; privateKey: string; balance: string }[]
  mnemonic: string | undefined
  derivationPath: string
  examples?:
    | {
        fresh: boolean
        deployMs?: number
        models: { name: string; modelId: string; cid: string }[]
        contracts: { name: string; address: string }[]
      }
    | { error: string }
  notice?: string
  metricsUrl?: string
  /** `--ipfs-port` / `--ipfs-peer`: where IPFS peers reach this devnet's model packages. */
  ipfs?: string[]
  explorerUrl?: string
}

function startupText(s: DevnetStartup, mining: string): string {
  const lines = ['', 'Lattice devnet', '==============', '', 'Available Accounts', '==================']
  for (const [i, a] of s.accounts.entries()) lines.push(`(${i}) ${a.address} (10000 ETH)`)
  lines.push('', 'Private Keys', '==================')
  for (const [i, a] of s.accounts.entries()) lines.push(`(${i}) ${a.privateKey}`)
  lines.push('', 'Wallet', '==================', `Mnemonic:          ${s.mnemonic}`)
  lines.push(`Derivation path:   ${s.derivationPath}`, '', 'Chain ID', '==================', s.chainId, '')
  lines.push(`Data directory:    ${s.datadir}`, `Head block:        ${s.head}`, `Mining:            ${mining}`)
  lines.push(`Started in:        ${s.startedMs} ms`)
  const ex = s.examples
  if (ex && 'error' in ex) lines.push('', `Example models not deployed: ${ex.error}`)
  else if (ex) {
    lines.push('', `Example models (${ex.fresh ? `deployed in ${ex.deployMs} ms` : 'already deployed'})`)
    lines.push('==================', ...ex.models.map((m) => `${m.name.padEnd(8)} ${m.modelId}  ${m.cid}`))
    lines.push('', 'Example contracts', '==================')
    lines.push(...ex.contracts.map((c) => `${c.name.padEnd(15)} ${c.address}`))
  }
  if (s.notice) lines.push('', `Note: ${s.notice}`)
  lines.push('', `Listening on ${s.rpcUrl} (WebSocket ${s.wsUrl})`)
  if (s.metricsUrl) lines.push(`Metrics:           ${s.metricsUrl}`)
  for (const a of s.ipfs ?? []) lines.push(`IPFS:              ${a}`)
  if (s.explorerUrl) lines.push(`Explorer:          ${s.explorerUrl}`)
  return lines.join('\n')
}
