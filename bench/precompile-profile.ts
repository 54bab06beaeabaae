/**
 * Where an automined iris inference transaction's time goes: an in-process devnet takes N pre-signed `infer`
 * transactions over HTTP under the V8 sampling profiler. Printed: wall ms per transaction, busy CPU per
 * transaction, self time per package and per function, and inclusive time of the phases named in PHASES
 * (a phase's time includes what it calls; phases nest, so they do not add up).
 *
 *   node --import tsx bench/precompile-profile.ts [--txs 60] [--top 25] [--out x.cpuprofile]
 *
 * With `--call <example model>`: N in-process `eth_call`s of that model's `infer` (node.execute at the head)
 * instead, against N bare runs of the same runtime on this thread (onnxruntime-web, the pinned `.wasm`,
 * consensus options); process CPU (all threads: the worker's run included) per call for both, and the
 * profile of this thread (the worker's run is not in it: what is there is the precompile's overhead).
 */
import '../src/polyfills.ts'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { JsonRpcProvider, Wallet } from 'ethers'
import { startDevnet } from '../src/cli/devnet.ts'
import { CONSENSUS_PROFILE } from '../src/inference/profile.ts'
import { dtypeName } from '../src/inference/tensor.ts'
import { runtimeInit, wasmPool, wireOptions } from '../src/inference/wasm.ts'
import { inlineRuntime } from '../src/inference/wasm-inline.ts'
import { webSessionOptions, wireToWeb } from '../src/inference/wasm-ort.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../test/helpers/models.ts'
import { type Phase, type Profile, summariseProfile } from './cpu-profile.ts'

const { values } = parseArgs({
  options: {
    txs: { type: 'string', default: '60' },
    top: { type: 'string', default: '25' },
    call: { type: 'string' },
    // no sampling profiler: process CPU and wall only (the profiler logs every WebAssembly function of this
    // thread's 14 MB runtime and each of its tier-ups, which inflates the CPU of a thread that runs wasm)
    'no-profile': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})
const N = Number(values.txs)

/** Phases by function name (and file, to tell same-named functions apart); inclusive time is summed per phase. */
const PHASES: Phase[] = [
  ['node.execute (eth_call, whole)', /^execute$/, /src\/chain\/(node|calls)\.ts/],
  ['JSON-RPC request (whole, incl. automine)', /.*/, /src\/rpc\/server\.ts/],
  [
    'eth_sendRawTransaction: tx decode',
    /^createTxFromRLP$|^createTxFromBlockBodyData$|^createFeeMarket1559TxFromRLP$/,
    /@ethereumjs\/tx/,
  ],
  ['tx sender recovery (ecrecover)', /^getSenderPublicKey$/, /@ethereumjs\/tx/],
  ['txpool add', /^add$/, /src\/node\/txpool|src\/chain\/txpool/],
  ['Chain.mine (block build + commit)', /^mine$/, /src\/chain\/chain\.ts/],
  ['Chain.build', /^build$/, /src\/chain\/chain\.ts/],
  ['runTx', /^runTx$|^_runTx$/, /@ethereumjs\/vm/],
  ['EVM runCall', /^runCall$/, /@ethereumjs\/evm/],
  ['precompile (whole)', /^precompile$/, /src\/precompiles\/inference\.ts/],
  ['precompile: ABI decode', /^decodeInfer$/, /src\/precompiles/],
  ['precompile: plan (registry read, access, FLOPs)', /^plan$/, /src\/precompiles\/plan\.ts/],
  ['precompile: session run (worker round trip)', /^run$/, /src\/inference\/cache\.ts/],
  ['precompile: ABI encode outputs', /^encodeTensors$/, /src\/precompiles\/abi\.ts/],
  ['precompile: record (encode + hash)', /^record$/, /src\/precompiles\/inference\.ts/],
  ['block: getStateRoot', /^getStateRoot$/, /@ethereumjs\/statemanager/],
  ['block: BlockBuilder.build', /^build$/, /@ethereumjs\/vm/],
  ['Chain.commitBlock', /^commitBlock$/, /src\/chain\/chain\.ts/],
  ['attestor: attest', /^attest$/, /src\/chain\/attestor\.ts/],
  ['attestor: sign', /^signInferenceRoot$/, /src\/proofs\/attestation\.ts/],
  ['registry index: apply', /^apply$/, /src\/chain\/registry-index\.ts/],
  ['registry index: stateAt', /^stateAt$/, /src\/chain\/chain\.ts/],
  ['inference records encode', /^encodeInferenceRecords$/, /src\/chain\/inference-records\.ts/],
  ['inference root', /^blockInferenceRoot$/, /src\/chain\/inference-roots\.ts/],
]

function summarise(p: Profile, top: number): void {
  const { total, pkg, fn, phase } = summariseProfile(p, PHASES)
  const show = (title: string, m: Map<string, number>, sort: boolean) => {
    console.log(`\n| ${title} | ms per tx | share of busy CPU |\n| --- | ---: | ---: |`)
    const rows = sort ? [...m].sort((a, b) => b[1] - a[1]).slice(0, top) : [...m]
    for (const [k, us] of rows)
      console.log(`| ${k} | ${(us / 1000 / N).toFixed(3)} | ${((100 * us) / total).toFixed(1)}% |`)
  }
  console.log(`\nbusy CPU ${(total / 1000 / N).toFixed(2)} ms per transaction (idle excluded)`)
  show('phase (inclusive)', new Map(PHASES.map(([l]) => [l, phase.get(l) ?? 0])), false)
  show('package (self)', pkg, true)
  show('function (self)', fn, true)
}

/** CPU of the whole process (every thread) in ms. */
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

async function profileCalls(name: string): Promise<void> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-precompile-profile-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  const provider = new JsonRpcProvider(devnet.server.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  const wallet = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', provider)
  const session = new Session()
  session.connect()
  try {
    const m = exampleModel(name)
    const { modelId } = await deployModel(devnet.store, wallet, m.bytes, { name })
    const data = hexToBytes(
      inferenceAbi.encodeFunctionData('infer', [modelId, m.sampleInput.map(abiTensor)]) as `0x${string}`,
    )
    const from = devnet.accounts[0].address
    const to = createAddressFromString(INFERENCE)
    const call = async () => {
      const r = await devnet.node.execute({ from, to, data, gas: 30_000_000n }, devnet.node.chain.head)
      if (r.execResult.exceptionError) throw new Error(`${name}: ${r.execResult.exceptionError.error}`)
    }
    // the same calldata to an account without code: what eth_call itself costs, without the precompile
    const eoa = createAddressFromString(`0x${'42'.repeat(20)}`)
    const plain = async () => {
      const r = await devnet.node.execute({ from, to: eoa, data, gas: 30_000_000n }, devnet.node.chain.head)
      if (r.execResult.exceptionError) throw new Error(`plain call: ${r.execResult.exceptionError.error}`)
    }
    const web = await inlineRuntime(runtimeInit(CONSENSUS_PROFILE), () => wasmPool(CONSENSUS_PROFILE).compiled())
    if (!web) throw new Error('onnxruntime-web did not start on this thread')
    const bare = await web.InferenceSession.create(m.bytes, webSessionOptions(wireOptions(CONSENSUS_PROFILE)))
    const feeds = Object.fromEntries(
      m.sampleInput.map((t) => [
        t.name,
        wireToWeb({ name: t.name, type: dtypeName(t.dtype), dims: [...t.shape], data: t.data.slice().buffer }),
      ]),
    )
    const runBare = async () => {
      const out = await bare.run(feeds)
      for (const v of Object.values(out)) v.dispose()
    }
    for (let i = 0; i < 5; i++) {
      await call()
      await runBare()
      await plain()
    }
    // alternating, CPU of the whole process per op (the machine is shared: wall time is mostly waiting)
    const cpu: number[][] = [[], [], []]
    const wall: number[][] = [[], [], []]
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
    await session.post('Profiler.start')
    for (let i = 0; i < N; i++) {
      for (const [k, f] of [call, runBare, plain].entries()) {
        const c0 = cpuMs()
        const t0 = performance.now()
        await f()
        wall[k].push(performance.now() - t0)
        cpu[k].push(cpuMs() - c0)
      }
    }
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    console.log(
      `node ${process.version}, ${new Date().toISOString()}, load ${loadavg()[0].toFixed(1)}: ${N} ${name} eth_calls ` +
        `alternating with bare onnxruntime-web runs on this thread\n\n| path | CPU ms (median) | wall ms (median) |\n| --- | ---: | ---: |\n` +
        `| eth_call (node.execute) | ${med(cpu[0]).toFixed(2)} | ${med(wall[0]).toFixed(2)} |\n` +
        `| bare wasm | ${med(cpu[1]).toFixed(2)} | ${med(wall[1]).toFixed(2)} |\n` +
        `| eth_call of the same calldata to an account without code | ${med(cpu[2]).toFixed(2)} | ${med(wall[2]).toFixed(2)} |\n` +
        `| ratio | ${(med(cpu[0]) / med(cpu[1])).toFixed(3)} | ${(med(wall[0]) / med(wall[1])).toFixed(3)} |`,
    )
    if (values.out) writeFileSync(values.out, JSON.stringify(profile))
    // this thread's profile holds both paths: the bare runs' WebAssembly appears as wasm-function frames
    summarise(profile, Number(values.top))
    await bare.release()
  } finally {
    session.disconnect()
    provider.destroy()
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-precompile-profile-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  const provider = new JsonRpcProvider(devnet.server.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  const wallet = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', provider)
  const session = new Session()
  session.connect()
  try {
    const iris = exampleModel('iris')
    const { modelId } = await deployModel(devnet.store, wallet, iris.bytes, { name: 'iris' })
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, iris.sampleInput.map(abiTensor)])
    let nonce = await provider.getTransactionCount(wallet.address, 'latest')
    const signed: string[] = []
    for (let i = 0; i < N + 10; i++) {
      signed.push(
        await wallet.signTransaction({
          to: INFERENCE,
          data,
          gasLimit: 200_000n,
          nonce: nonce++,
          chainId: devnet.node.chain.chainId,
          type: 2,
          maxFeePerGas: 100n * 10n ** 9n,
          maxPriorityFeePerGas: 10n ** 9n,
        }),
      )
    }
    // wall time of each chain listener per block (they run in turn inside the block's commit)
    const listenerMs = new Map<string, number>()
    let profiling = false
    for (const l of devnet.node.chain.listeners) {
      const name = l.constructor.name
      const orig = l.onBlockCommitted.bind(l)
      l.onBlockCommitted = async (...args) => {
        const t0 = performance.now()
        try {
          return await orig(...args)
        } finally {
          if (profiling) listenerMs.set(name, (listenerMs.get(name) ?? 0) + performance.now() - t0)
        }
      }
    }
    const send = async (raw: string) => {
      const hash = await provider.send('eth_sendRawTransaction', [raw])
      const r = await provider.getTransactionReceipt(hash)
      if (r?.status !== 1) throw new Error('inference transaction failed or has no receipt')
    }
    // warm-up outside the profile (session, caches)
    for (const raw of signed.slice(0, 10)) await send(raw)
    if (!values['no-profile']) {
      await session.post('Profiler.enable')
      await session.post('Profiler.setSamplingInterval', { interval: 200 })
      await session.post('Profiler.start')
    }
    profiling = true
    const walls: number[] = []
    const c0 = cpuMs()
    let cHalf = c0
    for (const [i, raw] of signed.slice(10).entries()) {
      if (i === Math.floor(N / 2)) cHalf = cpuMs()
      const t0 = performance.now()
      await send(raw)
      walls.push(performance.now() - t0)
    }
    const c1 = cpuMs()
    const processCpu = (c1 - c0) / N
    // a one-off cost (a runtime's first compile, tier-up) shows as a first half dearer than the second
    const halves = [(cHalf - c0) / Math.floor(N / 2), (c1 - cHalf) / (N - Math.floor(N / 2))]
    profiling = false
    const profile = values['no-profile']
      ? undefined
      : ((await session.post('Profiler.stop')) as { profile: Profile }).profile
    walls.sort((a, b) => a - b)
    console.log(
      `node ${process.version}, ${new Date().toISOString()}, load ${loadavg()[0].toFixed(1)}: ${N} iris transactions, ` +
        `send-to-receipt median ${walls[Math.floor(N / 2)].toFixed(2)} ms (min ${walls[0].toFixed(2)}, max ${walls[N - 1].toFixed(2)}); ` +
        `process CPU (all threads, the profiler's own work included) ${processCpu.toFixed(2)} ms per transaction ` +
        `(first half ${halves[0].toFixed(2)}, second half ${halves[1].toFixed(2)})`,
    )
    console.log('\n| chain listener (wall, in the commit) | ms per block |\n| --- | ---: |')
    for (const [name, ms] of listenerMs) console.log(`| ${name} | ${(ms / N).toFixed(3)} |`)
    if (!profile) return
    if (values.out) writeFileSync(values.out, JSON.stringify(profile))
    summarise(profile, Number(values.top))
  } finally {
    session.disconnect()
    provider.destroy()
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
}

await (values.call ? profileCalls(values.call) : main())
