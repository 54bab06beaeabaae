// geth's metrics flags for `lattice devnet` and `lattice node`, and the glue that builds the node's metrics.
import type { LatticeNode } from '../chain/node.ts'
import type { MetricsServer } from '../rpc/metrics.ts'
import { startMetricsServer } from '../rpc/metrics.ts'
import { NodeMetrics } from '../rpc/node-metrics.ts'
import type { CliOption } from './command.ts'
import { CliFlagError } from './errors.ts'
import type { InferenceStack } from './stack.ts'

/** Where to serve metrics (`--metrics.addr`, `--metrics.port`). */
export interface MetricsOpts {
  host?: string
  /** Default 6060, as geth; 0 picks a free port. */
  port?: number
}

/** `--metrics`, `--metrics.addr`, `--metrics.port` with geth's defaults. */
export const METRICS_OPTIONS: CliOption[] = [
  { flags: '--metrics', description: 'serve Prometheus metrics (at /metrics and /debug/metrics/prometheus)' },
  { flags: '--metrics.addr <host>', description: 'interface of the metrics server', default: '127.0.0.1' },
  { flags: '--metrics.port <port>', description: 'port of the metrics server', default: '6060' },
]

/** The metrics options from commander's flags, or undefined without `--metrics`. */
export function parseMetricsFlags(opts: Record<string, unknown>): MetricsOpts | undefined {
  if (!opts.metrics) return undefined
  const port = Number(opts['metrics.port'] ?? 6060)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliFlagError(
      `--metrics.port ${opts['metrics.port']} is not a port number. Pass an integer from 0 to 65535.`,
    )
  }
  return { host: String(opts['metrics.addr'] ?? '127.0.0.1'), port }
}

/** The node's metrics when asked for; hooks the precompile, so call it before the chain is opened. */
export function createNodeMetrics(opts: MetricsOpts | undefined, stack: InferenceStack): NodeMetrics | undefined {
  if (!opts) return undefined
  const metrics = new NodeMetrics()
  metrics.instrumentInference(stack.inference)
  return metrics
}

/** Follow `node` and serve the metrics; undefined without metrics. */
export async function serveNodeMetrics(
  metrics: NodeMetrics | undefined,
  opts: MetricsOpts | undefined,
  node: LatticeNode,
  stack: Pick<InferenceStack, 'sessions' | 'store'>,
): Promise<MetricsServer | undefined> {
  if (!metrics || !opts) return undefined
  const network = (stack.store as { network?: { peerCount(): number } }).network
  metrics.attachNode(node, { sessions: stack.sessions, peers: () => network?.peerCount() ?? 0 })
  return startMetricsServer({ registry: metrics.registry, host: opts.host, port: opts.port })
}
