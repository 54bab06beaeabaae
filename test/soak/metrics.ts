// Scraping the node's Prometheus endpoint during the soak, and judging which metric families moved.

/** The families `--metrics` serves (src/rpc/node-metrics.ts); a histogram is judged by its `_count`. */
export const FAMILIES = [
  'lattice_chain_blocks_total',
  'lattice_chain_transactions_total',
  'lattice_chain_gas_used_total',
  'lattice_inference_calls_total',
  'lattice_inference_duration_seconds',
  'lattice_inference_refusals_total',
  'lattice_rpc_requests_total',
  'lattice_rpc_errors_total',
  'lattice_rpc_duration_seconds',
  'lattice_chain_head_block',
  'lattice_txpool_transactions',
  'lattice_inference_session_cache_hits_total',
  'lattice_inference_session_cache_misses_total',
  'lattice_inference_sessions',
  'lattice_p2p_peers',
] as const

export type Scrape = Map<string, number>

/** Gauges whose value a process restores from its datadir at start: they move only if they change between scrapes. */
const RESTORED = new Set<string>(['lattice_chain_head_block', 'lattice_txpool_transactions'])

/**
 * The baseline of one node process from its first scrape: every counter, histogram and on-demand gauge (models
 * loaded, peers) starts a process at 0, so a value above 0 at any later scrape moved in this process, even when the
 * first inference ran before the first scrape (a pool journal replayed into the first block does that); the restored
 * gauges keep their first scraped value.
 */
export function processBaseline(first: Scrape | undefined): Scrape | undefined {
  if (!first) return undefined
  return new Map(FAMILIES.map((f) => [f, RESTORED.has(f) ? (first.get(f) ?? 0) : 0]))
}

/** Sum of every sample of each family (histograms: their `_count`), from the exposition text. */
export function parseMetrics(text: string): Scrape {
  const out: Scrape = new Map()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (!m) continue
    let name = m[1] as string
    if (name.endsWith('_bucket') || name.endsWith('_sum')) continue
    if (name.endsWith('_count')) name = name.slice(0, -'_count'.length)
    out.set(name, (out.get(name) ?? 0) + Number(m[3]))
  }
  return out
}

/** GET /metrics; undefined when the node does not answer. */
export async function scrape(port: number): Promise<Scrape | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })
    return res.ok ? parseMetrics(await res.text()) : undefined
  } catch {
    return undefined
  }
}

/**
 * Which families changed between two scrapes of one process (counters restart with it), folded into `moved`;
 * a gauge that went up and down again between scrapes is caught by scraping often.
 */
export function noteMoves(moved: Set<string>, a: Scrape, b: Scrape): void {
  for (const f of FAMILIES) if ((a.get(f) ?? 0) !== (b.get(f) ?? 0)) moved.add(f)
}
