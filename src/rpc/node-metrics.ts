// The node's Prometheus metrics (`--metrics`): blocks, transactions and gas; inferences per model with their
// latency and refusals; session-cache hits; RPC requests and latency per method; peers. Counters are fed by
// hooks (the node's 'block' event, a wrapper around the precompile and around RPC handlers); gauges are read
// at scrape time.
import type { MinedBlock } from '../chain/chain.ts'
import type { LatticeNode } from '../chain/node.ts'
import { methodOf } from '../precompiles/abi.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import type { Counter, Histogram } from './metrics.ts'
import { MetricsRegistry } from './metrics.ts'
import type { Handlers } from './types.ts'

/** What the metrics read at scrape time, besides the node. */
export interface NodeMetricSources {
  /** The session cache's counters (hits: a model already loaded). */
  sessions?: { stats(): { hits: number; misses: number; evictions: number; entries: number } }
  /** Connected peers (the IPFS network); 0 when networking is off. */
  peers?: () => number
}

/** Every metric of a node, in one registry. */
export class NodeMetrics {
  readonly registry = new MetricsRegistry()
  private readonly blocks: Counter
  private readonly txs: Counter
  private readonly gas: Counter
  private readonly inferences: Counter
  private readonly inferenceSeconds: Histogram
  private readonly refusals: Counter
  private readonly rpcRequests: Counter
  private readonly rpcErrors: Counter
  private readonly rpcSeconds: Histogram

  constructor() {
    const r = this.registry
    this.blocks = r.counter('lattice_chain_blocks_total', 'Blocks produced by this node')
    this.txs = r.counter('lattice_chain_transactions_total', 'Transactions in blocks produced by this node')
    this.gas = r.counter('lattice_chain_gas_used_total', 'Gas used by blocks produced by this node')
    this.inferences = r.counter(
      'lattice_inference_calls_total',
      'Calls of the inference precompile (infer, inferBatch) per model, in blocks and RPC calls',
    )
    this.inferenceSeconds = r.histogram(
      'lattice_inference_duration_seconds',
      'Time of one inference precompile call per model (plan, model load, run)',
    )
    this.refusals = r.counter(
      'lattice_inference_refusals_total',
      'Inference precompile calls that reverted or ran out of gas, per model and reason',
    )
    this.rpcRequests = r.counter('lattice_rpc_requests_total', 'JSON-RPC requests per method')
    this.rpcErrors = r.counter('lattice_rpc_errors_total', 'JSON-RPC requests answered with an error, per method')
    this.rpcSeconds = r.histogram('lattice_rpc_duration_seconds', 'JSON-RPC request latency per method')
  }

  /** Count the precompile's calls; call before the chain is opened (the EVM copies the function then). */
  instrumentInference(inference: InferencePrecompile): void {
    const inner = inference.customPrecompile.function
    inference.customPrecompile.function = async (input) => {
      const method = methodOf(input.data)
      if (method !== 'infer' && method !== 'inferBatch') return inner(input)
      const model = input.data.length >= 36 ? `0x${Buffer.from(input.data.subarray(4, 36)).toString('hex')}` : 'none'
      const t0 = performance.now()
      const res = await inner(input)
      this.inferences.inc({ model })
      this.inferenceSeconds.observe({ model }, (performance.now() - t0) / 1000)
      const err = res.exceptionError?.error
      if (err) this.refusals.inc({ model, reason: err === 'out of gas' ? 'out_of_gas' : 'revert' })
      return res
    }
  }

  /** Follow the node's blocks and read its head, pool, caches and peers at scrape time. */
  attachNode(node: LatticeNode, sources: NodeMetricSources = {}): void {
    node.on('block', (mined: MinedBlock) => {
      this.blocks.inc()
      this.txs.inc({}, mined.included.length)
      this.gas.inc({}, Number(mined.block.header.gasUsed))
    })
    const r = this.registry
    r.gauge('lattice_chain_head_block', 'Number of the head block', () => Number(node.chain.head.header.number))
    r.gauge('lattice_txpool_transactions', 'Transactions waiting in the pool', () => node.pool.size)
    const sessions = sources.sessions
    if (sessions) {
      r.gauge(
        'lattice_inference_session_cache_hits_total',
        'Inference runs that found their model loaded',
        () => sessions.stats().hits,
        'counter',
      )
      r.gauge(
        'lattice_inference_session_cache_misses_total',
        'Inference runs that had to load their model',
        () => sessions.stats().misses,
        'counter',
      )
      r.gauge('lattice_inference_sessions', 'Models loaded', () => sessions.stats().entries)
    }
    r.gauge('lattice_p2p_peers', 'Connected peers', () => sources.peers?.() ?? 0)
  }

  /** Wrap every handler to count its requests, errors and latency. */
  instrumentHandlers(handlers: Handlers): Handlers {
    const out: Handlers = {}
    for (const [method, fn] of Object.entries(handlers)) {
      // label keys built once per method, not twice per request
      const requests = this.rpcRequests.bind({ method })
      const errors = this.rpcErrors.bind({ method })
      const seconds = this.rpcSeconds.bind({ method })
      out[method] = async (params, ctx) => {
        const t0 = performance.now()
        requests.inc()
        try {
          return await fn(params, ctx)
        } catch (err) {
          errors.inc()
          throw err
        } finally {
          seconds.observe((performance.now() - t0) / 1000)
        }
      }
    }
    return out
  }
}
