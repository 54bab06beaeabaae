// RPC-path runs abandoned at their deadline (src/inference/run-deadline.ts): a running one costs its worker,
// which is replaced; the slot's sessions load again in the replacement and what was queued behind goes on.
import { afterAll, describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { CONSENSUS_PROFILE } from '../../src/inference/profile.ts'
import { withRunDeadline } from '../../src/inference/run-deadline.ts'
import { checkRuntime } from '../../src/inference/wasm-check.ts'
import type { WireTensor } from '../../src/inference/wasm-wire.ts'
import { RunAbandonedError, WorkerPool } from '../../src/inference/worker-pool.ts'
import { loopModel } from './helpers/models.ts'

const OPTS = {
  executionMode: 'sequential',
  graphOptimizationLevel: 'disabled',
  enableCpuMemArena: false,
  enableMemPattern: false,
  extra: {},
} as const

const loopFeeds = (trips: number): WireTensor[] => [
  { name: 'trips', type: 'int64', dims: [], data: new BigInt64Array([BigInt(trips)]).buffer },
  { name: 'x', type: 'float32', dims: [1], data: new Float32Array([1]).buffer },
]
const irisFeeds = (): WireTensor[] => [
  { name: 'x', type: 'float32', dims: [1, 4], data: new Float32Array([6.9, 3.1, 5.4, 2.1]).buffer },
]
const sumOf = (out: WireTensor[]): number => new Float32Array(out[0]?.data as ArrayBuffer)[0] as number
const classOf = (out: WireTensor[]): bigint => new BigInt64Array(out[1]?.data as ArrayBuffer)[0] as bigint

/** A deadline as the RPC server lends one: a signal that fires after `ms`. */
const deadline = (ms: number) => ({ signal: AbortSignal.timeout(ms) })

function pool(): WorkerPool {
  const files = checkRuntime(CONSENSUS_PROFILE)!
  return new WorkerPool({
    size: 1,
    init: { wasmPath: files.wasmPath, sha256: files.sha256, version: '1.30.0', numThreads: 1 },
  })
}

const pools: WorkerPool[] = []
afterAll(() => Promise.all(pools.map((p) => p.close())))

describe('abandoning RPC-path runs at their deadline', () => {
  it('a running run: its worker is terminated and replaced; queued runs and later runs work', async () => {
    const p = pool()
    pools.push(p)
    const loop = await p.load('loop', loopModel(), OPTS)
    const iris = await p.load('iris', buildIrisModel(), OPTS)
    expect(loop.slot).toBe(iris.slot)
    expect(sumOf(await p.run(loop.slot, 'loop', loopFeeds(10)))).toBe(11)

    // an eth_call of an effectively endless loop, and a block's run of another model queued behind it
    const t0 = performance.now()
    const endless = withRunDeadline(deadline(400), () => p.run(loop.slot, 'loop', loopFeeds(2 ** 40))).catch(
      (e: unknown) => e,
    )
    const behind = p.run(iris.slot, 'iris', irisFeeds())
    const err = await endless
    const abandonedMs = performance.now() - t0
    expect(err).toBeInstanceOf(RunAbandonedError)
    expect((err as RunAbandonedError).running).toBe(true)
    expect(abandonedMs).toBeGreaterThanOrEqual(390)
    expect(abandonedMs).toBeLessThan(2000)
    expect(p.replaced).toBe(1)
    // the replacement worker loads iris again before the queued run: same answer as ever
    expect(classOf(await behind)).toBe(2n)
    // and the abandoned session works in it too, with a deadline that does not fire
    expect(sumOf(await withRunDeadline(deadline(60_000), () => p.run(loop.slot, 'loop', loopFeeds(99))))).toBe(100)
    expect(p.started).toBe(1)
    expect(loop.slot.dead).toBe(false)

    // again: the standby (started by the RPC-path run above) takes the slot at once, no start-up on the way
    const standby = () => (p as unknown as { standby?: { binding: { ready: boolean } } }).standby
    for (let i = 0; i < 600 && !standby()?.binding.ready; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(standby()?.binding.ready).toBe(true)
    const again = withRunDeadline(deadline(300), () => p.run(loop.slot, 'loop', loopFeeds(2 ** 40))).catch(
      (e: unknown) => e,
    )
    expect(await again).toBeInstanceOf(RunAbandonedError)
    const t1 = performance.now()
    expect(classOf(await p.run(iris.slot, 'iris', irisFeeds()))).toBe(2n)
    const nextMs = performance.now() - t1
    console.log(`the next run after a replacement by the standby (session loaded again): ${nextMs.toFixed(0)} ms`)
    expect(p.replaced).toBe(2)
    // a worker's cold start is 3-5 s on this loaded machine; the standby's first session costs well under that
    expect(nextMs).toBeLessThan(2500)
  }, 120_000)

  it('a queued run is dropped without touching the worker; the run ahead of it finishes', async () => {
    const p = pool()
    pools.push(p)
    const loop = await p.load('loop', loopModel(), OPTS)
    // long enough to still run when the queued run's deadline fires (a block's run: no deadline)
    const trips = 200_000
    const ahead = p.run(loop.slot, 'loop', loopFeeds(trips))
    const queued = withRunDeadline(deadline(100), () => p.run(loop.slot, 'loop', loopFeeds(1))).catch((e: unknown) => e)
    const err = await queued
    expect(err).toBeInstanceOf(RunAbandonedError)
    expect((err as RunAbandonedError).running).toBe(false)
    expect(sumOf(await ahead)).toBe(trips + 1)
    expect(p.replaced).toBe(0)
  }, 120_000)

  it('a run without a deadline (a block) goes ahead of queued RPC-path runs, behind the one running', async () => {
    const p = pool()
    pools.push(p)
    const loop = await p.load('loop', loopModel(), OPTS)
    const order: string[] = []
    const rpcRun = (name: string) =>
      withRunDeadline(deadline(120_000), () => p.run(loop.slot, 'loop', loopFeeds(50_000))).then(() => order.push(name))
    const runs = [rpcRun('rpc 1'), rpcRun('rpc 2'), rpcRun('rpc 3')]
    runs.push(p.run(loop.slot, 'loop', loopFeeds(1)).then(() => order.push('block')))
    await Promise.all(runs)
    expect(order).toEqual(['rpc 1', 'block', 'rpc 2', 'rpc 3'])
  }, 120_000)

  it('a run whose deadline has already passed is refused before it is sent', async () => {
    const p = pool()
    pools.push(p)
    const loop = await p.load('loop', loopModel(), OPTS)
    const gone = { signal: AbortSignal.abort() }
    await expect(withRunDeadline(gone, () => p.run(loop.slot, 'loop', loopFeeds(1)))).rejects.toThrow(RunAbandonedError)
    expect(p.replaced).toBe(0)
    // runs without a deadline (block execution) never look at one
    expect(sumOf(await p.run(loop.slot, 'loop', loopFeeds(5)))).toBe(6)
  }, 120_000)
})
