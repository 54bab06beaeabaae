import { bytesToHex } from '@ethereumjs/util'
import { defaultDatadir } from '../../storage/paths.ts'
import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'
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
    { flags: '--no-examples', description: 'do not deploy the example models and contracts on first start' },
    { flags: '--no-explorer', description: 'do not serve the explorer page at /explorer on the RPC port' },
    ...RPC_LIMIT_OPTIONS,
    ...METRICS_OPTIONS,
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
    const datadir = (opts.datadir as string | undefined) ?? defaultDatadir()
    const started = performance.now()
    const { startDevnet } = await import('../devnet.ts')
    const pinnerKey = opts.pinnerKey as string | undefined
    if (pinnerKey !== undefined && !/^(0x)?[0-9a-fA-F]{64}$/.test(pinnerKey)) {
      throw new CliFlagError('--pinner-key is not a private key. Pass 0x followed by 64 hex digits.')
    }
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
    })
    const out = io.stdout
    out.write('\nLattice devnet\n==============\n\n')
    out.write('Available Accounts\n==================\n')
    for (const [i, a] of devnet.accounts.entries()) out.write(`(${i}) ${a.address.toString()} (10000 ETH)\n`)
    out.write('\nPrivate Keys\n==================\n')
    for (const [i, a] of devnet.accounts.entries()) out.write(`(${i}) ${bytesToHex(a.privateKey)}\n`)
    out.write(`\nWallet\n==================\nMnemonic:          ${devnet.spec.lattice.devMnemonic}\n`)
    out.write("Derivation path:   m/44'/60'/0'/0/\n")
    out.write(`\nChain ID\n==================\n${devnet.node.chain.chainId}\n`)
    out.write(`\nData directory:    ${datadir}\n`)
    out.write(`Head block:        ${devnet.node.chain.head.header.number}\n`)
    out.write(`Mining:            ${blockTime > 0 ? `every ${blockTime}s` : 'automine (one block per transaction)'}\n`)
    out.write(`Started in:        ${Math.round(performance.now() - started)} ms\n`)
    if (opts.examples !== false) {
      const { deployDevnetExamples } = await import('../devnet-examples.ts')
      const t = performance.now()
      try {
        const ex = await deployDevnetExamples(devnet, datadir)
        out.write(
          `\nExample models (${ex.fresh ? `deployed in ${Math.round(performance.now() - t)} ms` : 'already deployed'})\n==================\n`,
        )
        for (const m of ex.models) out.write(`${m.name.padEnd(8)} ${m.modelId}  ${m.cid}\n`)
        out.write('\nExample contracts\n==================\n')
        for (const c of ex.contracts) out.write(`${c.name.padEnd(15)} ${c.address}\n`)
      } catch (err) {
        out.write(
          `\nExample models not deployed: ${(err as { shortMessage?: string }).shortMessage ?? (err as Error).message}\n`,
        )
      }
    }
    if (devnet.notice) out.write(`\nNote: ${devnet.notice}\n`)
    out.write(`\nListening on ${devnet.server.url} (WebSocket ${devnet.server.wsUrl})\n`)
    if (devnet.metricsUrl) out.write(`Metrics:           ${devnet.metricsUrl}\n`)
    if (opts.explorer !== false) out.write(`Explorer:          ${devnet.server.url}/explorer/\n`)
    await runUntilSignal(() => devnet.close())
    return 0
  },
}
