// A small Prometheus registry and its text exposition format (version 0.0.4), written by hand: counters,
// gauges read at scrape time, and histograms, each with labels. geth serves the same format at
// /debug/metrics/prometheus on --metrics.addr:--metrics.port; so does this, and at /metrics.
import type { Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Labels = Record<string, string>

/** Default latency buckets in seconds (Prometheus' defaults, plus longer ones for inference). */
export const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

interface Family {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  render(out: string[]): void
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] as string)}"`)
    .join(',')
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function sample(name: string, key: string, value: number): string {
  return `${name}${key ? `{${key}}` : ''} ${Number.isFinite(value) ? value : value > 0 ? '+Inf' : '-Inf'}`
}

/** A monotonically increasing count per label set. */
export class Counter {
  private readonly values = new Map<string, number>()
  constructor(readonly name: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels)
    this.values.set(k, (this.values.get(k) ?? 0) + by)
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0
  }

  /** One label set's count, its key derived once: for a hot path (a count per RPC request). */
  bind(labels: Labels): { inc(by?: number): void } {
    const k = labelKey(labels)
    return { inc: (by = 1) => this.values.set(k, (this.values.get(k) ?? 0) + by) }
  }

  render(out: string[]): void {
    for (const [k, v] of this.values) out.push(sample(this.name, k, v))
  }
}

/** Observations in cumulative buckets, with their sum and count, per label set. */
export class Histogram {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>()
  constructor(
    readonly name: string,
    private readonly bounds: number[] = DEFAULT_BUCKETS,
  ) {}

  observe(labels: Labels, value: number): void {
    this.observeKey(labelKey(labels), value)
  }

  /** One label set's observations, its key derived once: for a hot path (a latency per RPC request). */
  bind(labels: Labels): { observe(value: number): void } {
    const k = labelKey(labels)
    return { observe: (value) => this.observeKey(k, value) }
  }

  private observeKey(k: string, value: number): void {
    let s = this.series.get(k)
    if (!s) {
      s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 }
      this.series.set(k, s)
    }
    for (let i = 0; i < this.bounds.length; i++) if (value <= (this.bounds[i] as number)) s.buckets[i]++
    s.sum += value
    s.count++
  }

  render(out: string[]): void {
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : ''
      this.bounds.forEach((b, i) => {
        out.push(sample(`${this.name}_bucket`, `${sep}le="${b}"`, s.buckets[i] as number))
      })
      out.push(sample(`${this.name}_bucket`, `${sep}le="+Inf"`, s.count))
      out.push(sample(`${this.name}_sum`, k, s.sum))
      out.push(sample(`${this.name}_count`, k, s.count))
    }
  }
}

/** Metric families in registration order, rendered on each scrape. */
export class MetricsRegistry {
  private readonly families: Family[] = []

  counter(name: string, help: string): Counter {
    const c = new Counter(name)
    this.families.push({ name, help, type: 'counter', render: (out) => c.render(out) })
    return c
  }

  histogram(name: string, help: string, buckets?: number[]): Histogram {
    const h = new Histogram(name, buckets)
    this.families.push({ name, help, type: 'histogram', render: (out) => h.render(out) })
    return h
  }

  /** A value read at scrape time: one sample, or one per label set. */
  gauge(name: string, help: string, read: () => number | Array<[Labels, number]>, type: 'gauge' | 'counter' = 'gauge') {
    this.families.push({
      name,
      help,
      type,
      render: (out) => {
        const v = read()
        if (typeof v === 'number') out.push(sample(name, '', v))
        else for (const [labels, n] of v) out.push(sample(name, labelKey(labels), n))
      },
    })
  }

  /** The text exposition of every family. */
  render(): string {
    const out: string[] = []
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help}`)
      out.push(`# TYPE ${f.name} ${f.type}`)
      try {
        f.render(out)
      } catch {
        // a source that cannot answer right now (a store closing) leaves its family empty, not the scrape
      }
    }
    return `${out.join('\n')}\n`
  }
}

/** Options for {@link startMetricsServer}; geth's defaults. */
export interface MetricsServerOpts {
  registry: MetricsRegistry
  /** `--metrics.addr` (default 127.0.0.1). */
  host?: string
  /** `--metrics.port` (default 6060; 0 picks a free port). */
  port?: number
}

export interface MetricsServer {
  /** `http://host:port/metrics` */
  url: string
  port: number
  close(): Promise<void>
}

/** Serve the registry at /metrics and geth's /debug/metrics/prometheus. */
export async function startMetricsServer(opts: MetricsServerOpts): Promise<MetricsServer> {
  const host = opts.host ?? '127.0.0.1'
  const http: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/debug/metrics/prometheus')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n')
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(opts.registry.render())
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(opts.port ?? 6060, host, () => resolve())
  })
  const port = (http.address() as AddressInfo).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}/metrics`,
    port,
    close: async () => {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
