// Consensus runtime vs native ONNX Runtime, per call, on every example model (PaddleOCR and Silero included),
// interleaved in one process: consensus-v2 (onnxruntime-web, WebAssembly SIMD, one thread, in a worker thread,
// through the session cache as the precompile calls it: validation, codec, transfer to the worker and back)
// against bare onnxruntime-node runs with consensus-v1's options (one thread, no graph optimisation: the
// like-for-like native baseline) and with the fast off-chain profile (all optimisations, all threads).
// `npm run bench:inference`; `--write` also rewrites the "## Inference runtime" section of docs/benchmarks.md.
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import * as ortWeb from 'onnxruntime-web'
import { exampleModels } from '../examples/models/index.ts'
import { createSessionCache, modelDigest } from '../src/inference/cache.ts'
import {
  type BareOrtSession,
  createBareOrtSession,
  type OrtTensor,
  onnxruntimeVersion,
  toOrtTensor,
} from '../src/inference/onnx.ts'
import { CONSENSUS_PROFILE_V1, CONSENSUS_PROFILE_V2, fastProfile } from '../src/inference/profile.ts'
import type { Tensor } from '../src/inference/tensor.ts'
import { closeWasmPools } from '../src/inference/wasm.ts'
import { checkRuntime } from '../src/inference/wasm-check.ts'
import { median } from './stats.ts'

interface Row {
  name: string
  /** Median ms per call. */
  native: number
  fast: number
  /** onnxruntime-web on this thread, bare: the WebAssembly compute alone. */
  web: number
  wasm: number
  calls: number
}

const WEB_VIEWS: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = {
  float32: Float32Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
}

// the bare WebAssembly baseline: the same pinned .wasm and session options as consensus-v2, on this thread
function webTensor(t: Tensor, type: string): ortWeb.Tensor {
  const C = WEB_VIEWS[type]
  return new ortWeb.Tensor(type as 'float32', new C(t.data.slice().buffer) as Float32Array, t.shape)
}

async function webSession(bytes: Uint8Array): Promise<ortWeb.InferenceSession> {
  const p = CONSENSUS_PROFILE_V2
  return ortWeb.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: p.graphOptimizationLevel,
    executionMode: p.executionMode,
    enableCpuMemArena: p.enableCpuMemArena,
    enableMemPattern: p.enableMemPattern,
    extra: { ...p.config },
  })
}

async function ms(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await f()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function benchModel(m: ReturnType<typeof exampleModels>[number], budgetMs: number): Promise<Row> {
  const cache = createSessionCache({ profile: CONSENSUS_PROFILE_V2 })
  const digest = modelDigest(m.bytes)
  const load = (): Uint8Array => m.bytes
  const native: BareOrtSession = await createBareOrtSession(m.bytes, CONSENSUS_PROFILE_V1)
  const fast: BareOrtSession = await createBareOrtSession(m.bytes, fastProfile('cpu'))
  const feeds: Record<string, OrtTensor> = {}
  for (const t of m.sampleInput) feeds[t.name] = toOrtTensor(t)
  const web = await webSession(m.bytes)
  const webFeeds: Record<string, ortWeb.Tensor> = {}
  for (const t of m.sampleInput) webFeeds[t.name] = webTensor(t, feeds[t.name].type)
  const paths = [
    () => cache.run(digest, load, m.sampleInput),
    () => native.run(feeds),
    () => fast.run(feeds),
    () => web.run(webFeeds),
  ]
  // warm up (first runs allocate; the worker compiles and loads), then size the run to the budget
  for (let i = 0; i < 3; i++) for (const p of paths) await p()
  let one = 0
  for (const p of paths) one += await ms(p)
  const calls = Math.max(10, Math.min(500, Math.round(budgetMs / one)))
  const t: number[][] = paths.map(() => [])
  for (let i = 0; i < calls; i++) {
    // rotate the order so drift and warm caches hit every path equally
    for (let k = 0; k < paths.length; k++) {
      const j = (i + k) % paths.length
      t[j].push(await ms(paths[j]))
    }
  }
  await native.release()
  await fast.release()
  await web.release()
  await cache.clear()
  return { name: m.name, wasm: median(t[0]), native: median(t[1]), fast: median(t[2]), web: median(t[3]), calls }
}

const fmt = (x: number): string => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3))

function table(rows: Row[]): string {
  const lines = [
    '| model | native, consensus-v1 options (ms/call) | native, fast profile (ms/call) | WebAssembly, bare, same thread (ms/call) | consensus-v2: cache + worker (ms/call) | v2 / native v1 | bare wasm / native v1 | v2 / native fast | calls each |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${fmt(r.native)} | ${fmt(r.fast)} | ${fmt(r.web)} | ${fmt(r.wasm)} | ${(r.wasm / r.native).toFixed(2)} | ${(r.web / r.native).toFixed(2)} | ${(r.wasm / r.fast).toFixed(2)} | ${r.calls} |`,
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const budgetMs = Number(process.argv.find((a) => a.startsWith('--budget-ms='))?.slice(12) ?? 4000)
  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',')
  const files = checkRuntime(CONSENSUS_PROFILE_V2)!
  ortWeb.env.wasm.numThreads = 1
  ortWeb.env.wasm.wasmBinary = readFileSync(files.wasmPath)
  ortWeb.env.logLevel = 'fatal'
  const rows: Row[] = []
  for (const m of exampleModels({ only })) {
    const r = await benchModel(m, budgetMs)
    rows.push(r)
    process.stdout.write(
      `${r.name.padEnd(11)} native ${fmt(r.native).padStart(8)} ms  fast ${fmt(r.fast).padStart(8)} ms  bare wasm ${fmt(r.web).padStart(8)} ms  consensus-v2 ${fmt(r.wasm).padStart(8)} ms  v2/native ${(r.wasm / r.native).toFixed(2)}  wasm/native ${(r.web / r.native).toFixed(2)}\n`,
    )
  }
  await closeWasmPools()
  const big = rows.filter((r) => r.native > 1)
  const worst = big.length ? big.reduce((a, b) => (a.wasm / a.native > b.wasm / b.native ? a : b)) : undefined
  const verdict = worst
    ? `models over 1 ms (native): consensus-v2 is at most ${(worst.wasm / worst.native).toFixed(2)}x native consensus-v1 (${worst.name}); target 3x`
    : 'no model over 1 ms'
  process.stdout.write(`\n${verdict}\n`)
  if (process.argv.includes('--write')) {
    const path = new URL('../docs/benchmarks.md', import.meta.url)
    let doc = ''
    try {
      doc = readFileSync(path, 'utf8')
    } catch {
      doc = '# Benchmarks\n'
    }
    const section = [
      '## Inference runtime',
      '',
      `\`npm run bench:inference\` (bench/inference.ts). Each example model's sample input; Node ${process.version}, onnxruntime-node ${onnxruntimeVersion}, onnxruntime-web ${CONSENSUS_PROFILE_V2.wasm?.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores; 1-minute load average ${loadavg()[0].toFixed(1)} when the run ended: this machine is shared, so absolute times are inflated and the ratios are what to read). The four paths alternate call by call in one process; the table shows median ms per call. "consensus-v2" is what the precompile runs: \`SessionCache.run\` (validation, codec, transfer to a worker thread and back) on onnxruntime-web's SIMD WebAssembly build with one thread. "native, consensus-v1 options" is a bare \`ort.InferenceSession.run\` of onnxruntime-node with the same restrictions (one thread, no graph optimisation); "fast" is the off-chain profile (all optimisations, default threads) that \`lattice infer --device cpu\` and \`lattice_infer\` with \`fast\` use.`,
      '',
      table(rows),
      '',
      verdict,
      '',
      '"bare, same thread" is onnxruntime-web with the same pinned `.wasm` and options, called directly on the benchmark\'s thread: the WebAssembly compute alone; the difference to consensus-v2 is the worker hand-off (post, the worker thread waking up, transfer back) and the codec, a fixed cost per call that grows when the machine is overloaded (a sleeping worker thread has to be scheduled). What limits the WebAssembly runtime: WebAssembly SIMD is 128 bits wide (no AVX2/AVX-512 or FMA: relaxed SIMD is not used, since its results may differ by CPU), so GEMM/convolution kernels do 4 float32 lanes per instruction where native MLAS does 8 or 16 with fused multiply-add; one thread (threads would make reductions depend on the thread count); and each call crosses to the worker and back: 0.15-0.3 ms when the worker thread is scheduled promptly, milliseconds when a loaded machine schedules the waiting thread late (compare the bare and consensus-v2 columns of the small models).',
      '',
      'Against the 3x target: read the "bare wasm / native v1" column for the runtime itself (WebAssembly SIMD loses most on convolution- and GEMM-heavy models such as PaddleOCR); the worker hand-off adds a fixed cost that only matters on sub-millisecond models. Graph optimisation (Conv+BatchNorm+activation fusion) would cut the PaddleOCR time but changes output bits: a new profile id (consensus-v3), measured on a quiet machine first.',
      '',
      '',
    ].join('\n')
    const start = doc.indexOf('## Inference runtime')
    if (start >= 0) {
      const rest = doc.slice(start + 1)
      const next = rest.search(/\n## /)
      doc = doc.slice(0, start) + section + (next >= 0 ? rest.slice(next + 1) : '')
    } else doc = `${doc.trimEnd()}\n\n${section}`
    writeFileSync(path, doc)
  }
}

await main()
