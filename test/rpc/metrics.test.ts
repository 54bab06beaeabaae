import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseMetricsFlags } from '../../src/cli/metrics.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { MetricsRegistry } from '../../src/rpc/metrics.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { freePort } from '../helpers/devnet-process.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

/** Samples of a Prometheus text exposition: `name{labels}` -> value. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(await res.text())
}

describe('the exposition format', () => {
  it('renders counters, gauges and histograms with escaped labels', () => {
    const r = new MetricsRegistry()
    const c = r.counter('x_total', 'things')
    c.inc({ method: 'a"b\\c' }, 2)
    r.gauge('g', 'a gauge', () => 7)
    const h = r.histogram('d_seconds', 'latency', [0.1, 1])
    h.observe({ m: 'x' }, 0.5)
    h.observe({ m: 'x' }, 5)
    const text = r.render()
    expect(text).toContain('# TYPE x_total counter\nx_total{method="a\\"b\\\\c"} 2\n')
    expect(text).toContain('# TYPE g gauge\ng 7\n')
    const s = parseExposition(text)
    expect(s.get('d_seconds_bucket{m="x",le="0.1"}')).toBe(0)
    expect(s.get('d_seconds_bucket{m="x",le="1"}')).toBe(1)
    expect(s.get('d_seconds_bucket{m="x",le="+Inf"}')).toBe(2)
    expect(s.get('d_seconds_sum{m="x"}')).toBe(5.5)
    expect(s.get('d_seconds_count{m="x"}')).toBe(2)
  })

  it('counts through bound series into the same samples as labelled calls, shown once used', () => {
    const r = new MetricsRegistry()
    const c = r.counter('x_total', 'things')
    const h = r.histogram('d_seconds', 'latency', [0.1, 1])
    const bound = c.bind({ method: 'eth_call' })
    const boundH = h.bind({ method: 'eth_call' })
    c.bind({ method: 'unused' })
    h.bind({ method: 'unused' })
    expect(r.render()).not.toContain('unused')
    bound.inc()
    bound.inc(2)
    c.inc({ method: 'eth_call' })
    boundH.observe(0.05)
    h.observe({ method: 'eth_call' }, 0.5)
    const s = parseExposition(r.render())
    expect(s.get('x_total{method="eth_call"}')).toBe(4)
    expect(s.get('d_seconds_bucket{method="eth_call",le="0.1"}')).toBe(1)
    expect(s.get('d_seconds_count{method="eth_call"}')).toBe(2)
    expect(c.get({ method: 'eth_call' })).toBe(4)
  })

  it('reads geth’s flags', () => {
    expect(parseMetricsFlags({})).toBeUndefined()
    expect(parseMetricsFlags({ metrics: true, 'metrics.port': '6061', 'metrics.addr': '0.0.0.0' })).toEqual({
      host: '0.0.0.0',
      port: 6061,
    })
    expect(() => parseMetricsFlags({ metrics: true, 'metrics.port': 'x' })).toThrow(/--metrics.port/)
  })
})

describe('a devnet with --metrics', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let modelId: string

  beforeAll(async () => {
    devnet = await startTestDevnet({ metrics: { port: 0 } })
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    modelId = (
      await deployModel(devnet.store, new Wallet(KEY0, provider), exampleModel('iris').bytes, { name: 'iris' })
    ).modelId
  }, 120_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })

  it('every metric moves: blocks, transactions, gas, inferences, latency, refusals, cache hits, RPC', async () => {
    expect(devnet.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const before = await scrape(devnet.metricsUrl as string)
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const good = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const bad = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor({ ...x, name: 'nope' })]])
    for (let i = 0; i < 2; i++)
      expect((await rpc(devnet.url, 'eth_call', [{ to: INFERENCE, data: good }])).error).toBeUndefined()
    expect((await rpc(devnet.url, 'eth_call', [{ to: INFERENCE, data: bad }])).error?.code).toBe(3)
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
    expect(sent.error).toBeUndefined()
    const head = Number((await rpc(devnet.url, 'eth_blockNumber')).result)
    const after = await scrape(devnet.metricsUrl as string)
    const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)

    expect(after.get('lattice_chain_head_block')).toBe(head)
    expect(moved('lattice_chain_blocks_total')).toBe(1)
    expect(moved('lattice_chain_transactions_total')).toBe(1)
    expect(moved('lattice_chain_gas_used_total')).toBe(21000)
    const model = `model="${modelId}"`
    expect(moved(`lattice_inference_calls_total{${model}}`)).toBe(3)
    expect(moved(`lattice_inference_duration_seconds_count{${model}}`)).toBe(3)
    expect(after.get(`lattice_inference_duration_seconds_sum{${model}}`)).toBeGreaterThan(0)
    expect(moved(`lattice_inference_refusals_total{${model},reason="revert"}`)).toBe(1)
    expect(moved('lattice_inference_session_cache_hits_total')).toBeGreaterThanOrEqual(1)
    expect(after.get('lattice_inference_sessions')).toBeGreaterThanOrEqual(1)
    expect(moved('lattice_rpc_requests_total{method="eth_call"}')).toBe(3)
    expect(moved('lattice_rpc_errors_total{method="eth_call"}')).toBe(1)
    expect(moved('lattice_rpc_duration_seconds_count{method="eth_sendTransaction"}')).toBe(1)
    expect(after.get('lattice_txpool_transactions')).toBe(0)
    expect(after.get('lattice_p2p_peers')).toBe(0)
  }, 120_000)
})

describe('lattice devnet --metrics (CLI)', () => {
  const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname
  let child: ChildProcess | undefined
  let datadir: string | undefined
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    if (datadir) rmSync(datadir, { recursive: true, force: true })
  })

  it('serves geth’s path on --metrics.port', async () => {
    datadir = mkdtempSync(join(tmpdir(), 'lattice-metrics-'))
    const [port, metricsPort] = [await freePort(), await freePort()]
    child = spawn(
      process.execPath,
      [BIN, 'devnet', '--port', String(port), '--datadir', datadir, '--no-examples', '--metrics'].concat([
        '--metrics.port',
        String(metricsPort),
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stdout?.on('data', (d) => {
      output += d
    })
    child.stderr?.on('data', (d) => {
      output += d
    })
    const deadline = Date.now() + 60_000
    while (!output.includes('Listening on') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(output).toContain(`Metrics:           http://127.0.0.1:${metricsPort}/metrics`)
    await rpc(`http://127.0.0.1:${port}`, 'eth_chainId')
    const s = await scrape(`http://127.0.0.1:${metricsPort}/debug/metrics/prometheus`)
    expect(s.get('lattice_rpc_requests_total{method="eth_chainId"}')).toBe(1)
    expect(s.get('lattice_chain_head_block')).toBe(0)
    const exited = new Promise((r) => child?.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }, 120_000)
})
