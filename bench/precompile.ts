/**
 * The inference precompile against bare runs of the same model with the same (consensus) session options,
 * measured in the same run: "bare wasm" is the runtime the precompile runs (onnxruntime-web, the pinned
 * `.wasm`, one thread) called directly on this thread with pre-built tensors, i.e. the precompile's own
 * overhead is ours/bare-wasm; "bare native" is onnxruntime-node with the same options (the runtime itself
 * is slower in WebAssembly: bench/inference.ts).
 *   - "call": the precompile path in-process (EVM call, ABI decode, registry read, access checks, input
 *     validation, FLOP lookup, run, ABI encode), as eth_call and block execution run it;
 *   - "tx": a signed transaction over HTTP to the devnet until its receipt (adds JSON-RPC, the txpool and
 *     producing a whole block: state root, receipts trie, LevelDB writes), with the devnet in this process;
 *   - then the same for iris and edges against `lattice devnet` compiled and run in its own process, as users run
 *     it (bench:devnet's setup), this process only its client.
 * The bare runs, a plain eth_call (the same calldata to an account without code) and the precompile call
 * alternate op by op; wall and process CPU (every thread, so the worker's run is counted) per op.
 * Also inferBatch over 16 inputs against 16 separate infer calls (gas and time). Each figure is a median with
 * its 10th-90th percentile spread; the load column is the 1-minute load average after the row.
 *
 *   npm run bench:precompile
 */
import '../src/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { JsonRpcProvider, Wallet } from 'ethers'
import { exampleModels, squareImage } from '../examples/models/index.ts'
import { startDevnet } from '../src/cli/devnet.ts'
import { createBareOrtSession, type OrtTensor, toOrtTensor } from '../src/inference/onnx.ts'
import { CONSENSUS_PROFILE } from '../src/inference/profile.ts'
import { dtypeName, type Tensor } from '../src/inference/tensor.ts'
import { runtimeInit, wasmPool, wireOptions } from '../src/inference/wasm.ts'
import { inlineRuntime } from '../src/inference/wasm-inline.ts'
import { webSessionOptions, wireToWeb } from '../src/inference/wasm-ort.ts'
import { abiTensor, deployModel, INFERENCE, inferenceAbi } from '../test/helpers/models.ts'
import { compileDist, rpc, startHttpTarget, stopChild } from './helpers.ts'
import { inferenceTxStream } from './inference-txs.ts'

/** Pre-signed transactions timed per model (one block each). */
const TX_SAMPLES = 15
/** Transactions timed per model against the devnet in its own process (twice), and sent between unmeasured. */
const OWN_TXS = 30
const OWN_WARM = 60
/** The port of that devnet (and its compiled build's folder: bench/helpers compileDist). */
const PORT = 29380

const EOA = createAddressFromString(`0x${'42'.repeat(20)}`)

/** Median of samples and their spread (10th-90th percentile). */
interface Timing {
  median: number
  p10: number
  p90: number
  n: number
}

function timing(xs: number[]): Timing {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), n: s.length }
}

const fmt = (t: Timing) => `${t.median.toFixed(2)} (${t.p10.toFixed(2)}–${t.p90.toFixed(2)})`
const load = () => loadavg()[0].toFixed(1)

/** Process CPU (every thread: a worker's run included), ms. */
const cpuNow = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Wall and process-CPU timings of `f` (CPU is what to compare on a shared machine: wall is mostly waiting). */
async function timeBoth(
  f: () => Promise<unknown>,
  minRuns: number,
  budgetMs: number,
): Promise<Timing & { cpu: Timing }> {
  const samples: number[] = []
  const cpu: number[] = []
  const deadline = performance.now() + budgetMs
  while (samples.length < minRuns || (performance.now() < deadline && samples.length < 200 && budgetMs > 0)) {
    const c0 = cpuNow()
    const t0 = process.hrtime.bigint()
    await f()
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6)
    cpu.push(cpuNow() - c0)
  }
  return { ...timing(samples), cpu: timing(cpu) }
}

const timeMany = timeBoth

/** Timings of each of `fs`, run in turn op by op (at least `minRuns` rounds, more while `budgetMs` lasts). */
async function alternate(
  fs: (() => Promise<unknown>)[],
  minRuns: number,
  budgetMs: number,
): Promise<(Timing & { cpu: Timing })[]> {
  const wall: number[][] = fs.map(() => [])
  const cpu: number[][] = fs.map(() => [])
  const deadline = performance.now() + budgetMs
  for (let round = 0; round < minRuns || (performance.now() < deadline && round < 200); round++) {
    for (const [k, f] of fs.entries()) {
      const c0 = cpuNow()
      const t0 = process.hrtime.bigint()
      await f()
      wall[k].push(Number(process.hrtime.bigint() - t0) / 1e6)
      cpu[k].push(cpuNow() - c0)
    }
  }
  return fs.map((_, k) => ({ ...timing(wall[k]), cpu: timing(cpu[k]) }))
}

async function main(): Promise<void> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-precompile-bench-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  const provider = new JsonRpcProvider(devnet.server.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  const url = devnet.server.url
  const wallet = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', provider)
  const from = devnet.accounts[0].address
  const to = createAddressFromString(INFERENCE)
  try {
    const models = exampleModels()
    const edges = models.find((m) => m.name === 'edges')!
    const cases: { name: string; bytes: Uint8Array; inputs: Tensor[] }[] = [
      ...models
        .filter((m) => ['iris', 'ppocr-cls', 'ppocr-det', 'ppocr-rec'].includes(m.name))
        .map((m) => ({
          name: m.name,
          bytes: m.bytes,
          inputs: m.sampleInput,
        })),
      { name: 'edges 128x128', bytes: edges.bytes, inputs: [squareImage(128, 128)] },
    ]
    console.log(`\nnode ${process.version}, ${new Date().toISOString()}, 1-minute load average ${load()}`)
    const web = await inlineRuntime(runtimeInit(CONSENSUS_PROFILE), () => wasmPool(CONSENSUS_PROFILE).compiled())
    if (!web) throw new Error('onnxruntime-web did not start on this thread')
    console.log(
      '| model | bare wasm ms | bare native ms | precompile call ms | call/bare wasm | call/bare native | transaction ms | tx/bare wasm | gas | load |',
    )
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    const cpuRows: string[] = []
    for (const c of cases) {
      const { modelId } = await deployModel(devnet.store, wallet, c.bytes, { name: c.name })
      const data = inferenceAbi.encodeFunctionData('infer', [modelId, c.inputs.map(abiTensor)])
      const bytes = hexToBytes(data as `0x${string}`)
      const bare = await createBareOrtSession(c.bytes, CONSENSUS_PROFILE)
      const feeds: Record<string, OrtTensor> = {}
      for (const t of c.inputs) feeds[t.name] = toOrtTensor(t)
      const bareWeb = await web.InferenceSession.create(c.bytes, webSessionOptions(wireOptions(CONSENSUS_PROFILE)))
      const webFeeds = Object.fromEntries(
        c.inputs.map((t) => [
          t.name,
          wireToWeb({ name: t.name, type: dtypeName(t.dtype), dims: [...t.shape], data: t.data.slice().buffer }),
        ]),
      )
      const runWeb = async () => {
        const out = await bareWeb.run(webFeeds)
        for (const v of Object.values(out)) v.dispose()
      }
      // warm every path (sessions, caches, FLOP reports)
      for (let i = 0; i < 3; i++) {
        await bare.run(feeds)
        await runWeb()
        await devnet.node.execute({ from, to, data: bytes, gas: 16_000_000n }, devnet.node.chain.head)
      }
      let gasUsed = 0n
      const call = async () => {
        const r = await devnet.node.execute({ from, to, data: bytes, gas: 16_000_000n }, devnet.node.chain.head)
        if (r.execResult.exceptionError) throw new Error(`${c.name}: ${r.execResult.exceptionError.error}`)
        gasUsed = r.totalGasSpent
      }
      // the same calldata to an account without code: what eth_call itself costs, the precompile aside
      const plain = () => devnet.node.execute({ from, to: EOA, data: bytes, gas: 16_000_000n }, devnet.node.chain.head)
      // the four paths alternate op by op, so that the machine's drift hits them alike
      const [bareMs, webMs, plainMs, callMs] = await alternate([() => bare.run(feeds), runWeb, plain, call], 8, 8000)
      // pre-signed, so that client-side signing is not timed (as in bench/devnet.ts)
      const gasLimit = (gasUsed * 12n) / 10n
      let nonce = await provider.getTransactionCount(wallet.address, 'latest')
      const signed: string[] = []
      for (let i = 0; i < TX_SAMPLES; i++) {
        signed.push(
          await wallet.signTransaction({
            to: INFERENCE,
            data,
            gasLimit,
            nonce: nonce++,
            chainId: devnet.node.chain.chainId,
            type: 2,
            maxFeePerGas: 100n * 10n ** 9n,
            maxPriorityFeePerGas: 10n ** 9n,
          }),
        )
      }
      const txMs = await timeMany(
        async () => {
          // plain JSON-RPC over HTTP as bench/devnet.ts sends it: ethers' provider holds each request up to its
          // 10 ms batch stall, which was ~20 ms of the ~32 ms this row showed per transaction
          const hash = await rpc(url, 'eth_sendRawTransaction', [signed.shift()])
          if (!(await rpc(url, 'eth_getTransactionReceipt', [hash]))) throw new Error('no receipt after automine')
        },
        TX_SAMPLES,
        0,
      )
      const b = bareMs.median
      const w = webMs.median
      await bareWeb.release()
      console.log(
        `| ${c.name} | ${fmt(webMs)} | ${fmt(bareMs)} | ${fmt(callMs)} | ${(callMs.median / w).toFixed(3)} | ${(callMs.median / b).toFixed(3)} | ${fmt(txMs)} | ${(txMs.median / w).toFixed(3)} | ${gasUsed} | ${load()} |`,
      )
      const wc = webMs.cpu.median
      cpuRows.push(
        `| ${c.name} | ${fmt(webMs.cpu)} | ${fmt(callMs.cpu)} | ${fmt(plainMs.cpu)} | ${(callMs.cpu.median / wc).toFixed(3)} | ${((callMs.cpu.median - plainMs.cpu.median) / wc).toFixed(3)} | ${fmt(txMs.cpu)} |`,
      )
    }

    console.log(
      '\nProcess CPU per op (all threads), ms: the precompile call against the bare wasm run, and without what eth_call itself costs (the same calldata sent to an account without code)\n',
    )
    console.log(
      '| model | bare wasm CPU | precompile call CPU | plain eth_call CPU | call/bare wasm | (call − plain eth_call)/bare wasm | transaction CPU |',
    )
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const r of cpuRows) console.log(r)

    // inferBatch(16) vs 16 x infer, in one call each
    const { modelId } = await deployModel(devnet.store, wallet, edges.bytes, { name: 'edges-batch' })
    const items = Array.from({ length: 16 }, () => [squareImage(16, 16)])
    const batchData = hexToBytes(
      inferenceAbi.encodeFunctionData('inferBatch', [modelId, items.map((i) => i.map(abiTensor))]) as `0x${string}`,
    )
    const oneData = hexToBytes(
      inferenceAbi.encodeFunctionData('infer', [modelId, items[0].map(abiTensor)]) as `0x${string}`,
    )
    const run = (d: Uint8Array) => devnet.node.execute({ from, to, data: d, gas: 16_000_000n }, devnet.node.chain.head)
    await run(batchData)
    await run(oneData)
    let batchGas = 0n
    let oneGas = 0n
    const batchMs = await timeMany(
      async () => {
        batchGas = (await run(batchData)).totalGasSpent
      },
      5,
      2000,
    )
    const oneMs = await timeMany(
      async () => {
        oneGas = (await run(oneData)).totalGasSpent
      },
      5,
      2000,
    )
    console.log('\n| edges 16x16, 16 inputs | gas | ms |')
    console.log('| --- | ---: | ---: |')
    console.log(`| inferBatch (one call) | ${batchGas} | ${batchMs.median.toFixed(2)} |`)
    console.log(`| 16 x infer (16 calls) | ${oneGas * 16n} | ${(oneMs.median * 16).toFixed(2)} |`)
    console.log(
      `| ratio batch / 16 calls | ${(Number(batchGas) / Number(oneGas * 16n)).toFixed(3)} | ${(batchMs.median / (oneMs.median * 16)).toFixed(3)} |`,
    )
  } finally {
    provider.destroy()
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
  await ownProcessTxs()
}

/**
 * The inference transaction as a user meets it: `lattice devnet` (compiled, as bench:devnet runs it) in its own
 * process, with its example models; this process is only the client. The "transaction ms" column above runs the
 * devnet in this process, beside the bare runtimes and the client, whose work then lands on the node's thread.
 */
async function ownProcessTxs(): Promise<void> {
  const root = new URL('..', import.meta.url).pathname
  const entry = compileDist(root, PORT)
  const t = await startHttpTarget('devnet', PORT, () => entry)
  try {
    console.log(
      `\nInference transactions to \`lattice devnet\` in its own process: the first ${OWN_TXS} after its start, then ${OWN_TXS} more after ${OWN_WARM} unmeasured (the JIT and the caches warm, as in a test suite's run), load ${load()}\n`,
    )
    console.log(
      '| model | first transactions: ms, send to receipt | node CPU ms per tx | warm: ms, send to receipt | node CPU ms per tx |',
    )
    console.log('| --- | ---: | ---: | ---: | ---: |')
    const cases: [string, string, Tensor[] | undefined][] = [
      ['iris', 'iris', undefined],
      ['edges 128x128', 'edges', [squareImage(128, 128)]],
    ]
    for (const [label, model, inputs] of cases) {
      const cold = await inferenceTxStream(t, model, OWN_TXS, inputs)
      await inferenceTxStream(t, model, OWN_WARM, inputs)
      const warm = await inferenceTxStream(t, model, OWN_TXS, inputs)
      console.log(
        `| ${label} | ${fmt(timing(cold.walls))} | ${cold.nodeCpuPerTx.toFixed(2)} | ${fmt(timing(warm.walls))} | ${warm.nodeCpuPerTx.toFixed(2)} |`,
      )
    }
  } finally {
    await stopChild(t.child, t.datadir)
    // the build compileDist made for this bench: <root>/.tmp-bench-dist-<port>/cli/main.js
    rmSync(dirname(dirname(entry)), { recursive: true, force: true })
  }
}

await main()
