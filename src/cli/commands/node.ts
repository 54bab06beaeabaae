import { AUTHRPC_OPTIONS, parseAuthRpcFlags } from '../authrpc-flags.ts'
import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { METRICS_OPTIONS, parseMetricsFlags } from '../metrics.ts'
import type { MiningMode } from '../node.ts'
import { P2P_OPTIONS, parseP2PFlags } from '../p2p.ts'
import { parseRpcLimitFlags, RPC_LIMIT_OPTIONS } from '../rpc-flags.ts'
import { runUntilSignal } from '../signals.ts'

/** `lattice node`: serve JSON-RPC from an initialised datadir, without dev keys. */
export const nodeCommand: CliCommand = {
  name: 'node',
  description: 'Run a node from a data directory prepared by `lattice init`',
  options: [
    { flags: '--datadir <dir>', description: 'data directory (from `lattice init`)' },
    { flags: '--port <port>', description: 'RPC port (HTTP and WebSocket)', default: '8545' },
    { flags: '--host <host>', description: 'interface to bind; use 0.0.0.0 to expose the node', default: '127.0.0.1' },
    {
      flags: '--mining <mode>',
      description: '"auto" (a block per transaction), "off" (transactions stay pending), or seconds between blocks',
      default: 'auto',
    },
    { flags: '--testing-api', description: "serve geth's testing_* namespace (testing_buildBlockV1)" },
    { flags: '--no-explorer', description: 'do not serve the explorer page at /explorer on the RPC port' },
    ...RPC_LIMIT_OPTIONS,
    ...METRICS_OPTIONS,
    ...P2P_OPTIONS,
    ...AUTHRPC_OPTIONS,
    {
      flags: '--validator-key <hex>',
      description: 'a genesis validator key: sign each block’s inference root (docs/proofs.md)',
    },
  ],
  async run(_args, opts, io) {
    if (!opts.datadir) throw new CliFlagError('Pass --datadir with a directory prepared by `lattice init`.')
    const port = Number(opts.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new CliFlagError(`--port ${opts.port} is not a port number. Pass an integer from 0 to 65535.`)
    }
    const mining = parseMining(String(opts.mining))
    const { startNode } = await import('../node.ts')
    const running = await startNode({
      datadir: opts.datadir,
      host: opts.host,
      port,
      mining,
      testingApi: Boolean(opts.testingApi),
      validatorKey: opts.validatorKey as string | undefined,
      explorer: opts.explorer !== false,
      callLimits: parseRpcLimitFlags(opts),
      metrics: parseMetricsFlags(opts),
      p2p: parseP2PFlags(opts),
      authrpc: parseAuthRpcFlags(opts),
    })
    const chain = running.node.chain
    // signals are handled before the startup is printed: a supervisor may send SIGTERM as soon as it reads it
    const stopped = runUntilSignal(() => running.close())
    // with --json (handled by the runner, src/cli/program.ts) the startup is one JSON document
    const startup = {
      chainId: String(chain.chainId),
      datadir: opts.datadir as string,
      head: String(chain.head.header.number),
      mining: running.engine ? 'off (blocks come from the Engine API)' : String(opts.mining),
      rpcUrl: running.server.url,
      wsUrl: running.server.wsUrl,
      metricsUrl: running.metricsUrl,
      /** The address other nodes pass as --bootnodes (with --p2p.port / --bootnodes). */
      enode: running.peering?.nodeInfo().enode,
    }
    printResult(
      io,
      startup,
      [
        'Lattice node',
        `Chain ID:        ${startup.chainId}`,
        `Data directory:  ${startup.datadir}`,
        `Head block:      ${startup.head}`,
        `Mining:          ${startup.mining}`,
        `Listening on ${startup.rpcUrl} (WebSocket ${startup.wsUrl})`,
        ...(startup.metricsUrl ? [`Metrics:         ${startup.metricsUrl}`] : []),
        ...(startup.enode ? [`P2P node:        ${startup.enode}`] : []),
      ].join('\n'),
    )
    if (running.engine) {
      const out = io.json ? io.stderr : io.stdout
      out.write(`Engine API:      ${running.engine.url} (JWT secret ${running.jwtSecret?.path})\n`)
      out.write('Blocks come from the consensus client attached to the Engine API; this node mines none itself.\n')
    }
    await stopped
    return 0
  },
}

function parseMining(v: string): MiningMode {
  if (v === 'auto') return { kind: 'auto' }
  if (v === 'off') return { kind: 'off' }
  const s = Number(v)
  if (Number.isFinite(s) && s > 0) return { kind: 'interval', seconds: s }
  throw new CliFlagError(`--mining ${v} is not a mode. Pass "auto", "off", or a number of seconds like 2.`)
}
