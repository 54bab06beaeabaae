/**
 * Calibrates the inference gas schedule (docs/gas.md): in one run, wall time per gas of plain EVM work (a keccak
 * loop — the reference — an SSTORE loop and an ecrecover loop, through the node's own EVM) and of each op family
 * on the consensus runtime (createConsensusSession: the session factory the precompile uses). Prints, per family,
 * (inference ns per gas) / (keccak-loop ns per gas); the target is 0.5..2. Also the example models and the
 * Tile -> Transpose -> Slice graph of issue 13, with their gas under consensus-v1 and the current schedule.
 *
 *   npm run bench:gas            (LATTICE_GAS_BENCH_QUICK=1 for a short run)
 *   npm run bench:gas -- --vectors   the adversarial vectors through a node, with its peak RSS (bench/gas-vectors.ts)
 */
import '../src/polyfills.ts'
import { writeFileSync } from 'node:fs'
import { OP_FAMILIES, type OpFamily, opFamily } from '../src/inference/flops/families.ts'
import { GAS_SCHEDULES, type GasSchedule, MICRO_GAS } from '../src/inference/flops/schedule.ts'
import { countFlops, createFlopCounter } from '../src/inference/flops.ts'
import { createConsensusSession } from '../src/inference/onnx.ts'
import { CONSENSUS_PROFILE } from '../src/inference/profile.ts'
import { CURRENT_GAS_SCHEDULE, inferenceGas } from '../src/precompiles/params.ts'
import { startEvmRef, stopwatch, type Times } from './evm-ref.ts'
import { exampleCases, familyCases, type GasCase, refusedCases } from './gas-cases.ts'

const QUICK = process.env.LATTICE_GAS_BENCH_QUICK === '1'
/** Only the cases whose name matches this regular expression. */
const ONLY = process.env.LATTICE_GAS_BENCH_ONLY ? new RegExp(process.env.LATTICE_GAS_BENCH_ONLY) : undefined
/** Write each case's cost components and run time here (JSON), for fitting the weights. */
const DUMP = process.env.LATTICE_GAS_BENCH_DUMP
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
type Case = GasCase

/** A full collection, when node runs with --expose-gc (npm run bench:gas passes it). */
function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/** Median wall and CPU time, ns, of counting a case cold (a fresh report: what a validator does for a shape it has not seen). */
function countNs(c: Case): Times {
  const counter = createFlopCounter({ model: c.model })
  const shapes = Object.fromEntries(c.inputs.map((t) => [t.name, t.shape]))
  const samples: Times[] = []
  for (let i = 0; i < 7; i++) {
    const read = stopwatch()
    counter.count(shapes)
    samples.push(read())
  }
  return medianTimes(samples.slice(2))
}

/** Each clock's median over samples. */
function medianTimes(samples: Times[]): Times {
  return { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)) }
}

/**
 * Median wall and CPU time, ns, of a case's run in a consensus session (2 warm-up runs; at least 5 timed, up to
 * ~3 s). The CPU clock is this process's: the session's worker thread does the work while the main thread waits.
 */
async function runNs(c: Case): Promise<Times> {
  const session = await createConsensusSession({ model: c.model })
  try {
    for (let i = 0; i < 2; i++) await session.run(c.inputs)
    const samples: Times[] = []
    const deadline = performance.now() + (QUICK ? 1000 : 3000)
    while (samples.length < 5 || (performance.now() < deadline && samples.length < 30)) {
      const read = stopwatch()
      await session.run(c.inputs)
      samples.push(read())
    }
    return medianTimes(samples)
  } finally {
    await session.dispose()
  }
}

/** A schedule that prices only one component at 1 gas per unit: its gas is that component's amount. */
function unitSchedule(part: { flop?: OpFamily; byte?: OpFamily; node?: boolean; iteration?: boolean }): GasSchedule {
  const zero = Object.fromEntries(OP_FAMILIES.map((f) => [f, 0n])) as Record<OpFamily, bigint>
  return {
    ...CURRENT_GAS_SCHEDULE,
    perFlop: part.flop ? { ...zero, [part.flop]: MICRO_GAS } : zero,
    perByte: part.byte ? { ...zero, [part.byte]: MICRO_GAS } : zero,
    perNode: part.node ? MICRO_GAS : 0n,
    perIteration: part.iteration ? MICRO_GAS : 0n,
  }
}

/** FLOPs and bytes per family, nodes and loop iterations of one run: what the weights multiply. */
function components(model: Uint8Array, shapes: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {}
  const count = (s: GasSchedule) => countFlops({ model, inputs: shapes, schedule: s }).gas
  for (const f of OP_FAMILIES) {
    const flops = count(unitSchedule({ flop: f }))
    const bytes = count(unitSchedule({ byte: f }))
    if (flops) out[`flop.${f}`] = flops
    if (bytes) out[`byte.${f}`] = bytes
  }
  out.node = count(unitSchedule({ node: true }))
  out.iteration = count(unitSchedule({ iteration: true }))
  return out
}

/** Rounds over all cases: each case's ratio is the median of its rounds (the machine's load drifts). */
const ROUNDS = QUICK ? 1 : Number(process.env.LATTICE_GAS_BENCH_ROUNDS ?? 3)

interface Row {
  name: string
  families: string
  gasV1: bigint
  gas: bigint
  /** Gas the measured time is compared with. */
  measuredGas: number
  ms: number[]
  ratios: number[]
  /** The same ratio on CPU time (the load on a shared machine moves it far less than wall time). */
  cpuRatios: number[]
  dump?: Record<string, unknown>
}

/** One round's timing of a row against the keccak loop timed right after it. */
function record(row: Row, t: Times, ref: Times): void {
  row.ms.push(t.wall / 1e6)
  row.ratios.push(t.wall / row.measuredGas / ref.wall)
  row.cpuRatios.push(t.cpu / row.measuredGas / ref.cpu)
}

async function main(): Promise<void> {
  const evmRef = await startEvmRef()
  const evmTimes = {
    keccak: await evmRef.perGas('keccak', 7),
    sstore: await evmRef.perGas('sstore', 7),
    ecrecover: await evmRef.perGas('ecrecover', 7),
  }
  const evm = { keccak: evmTimes.keccak.wall, sstore: evmTimes.sstore.wall, ecrecover: evmTimes.ecrecover.wall }
  const ref = evm.keccak
  const cpuRef = evmTimes.keccak.cpu
  const v1 = GAS_SCHEDULES['consensus-v1']
  const rows: Row[] = []
  const examples: Row[] = []
  const modelIds = new Map<string, Case>()
  for (const c of familyCases()) {
    if (ONLY && !ONLY.test(c.name)) continue
    const shapes = Object.fromEntries(c.inputs.map((t) => [t.name, t.shape]))
    const r = countFlops({ model: c.model, inputs: shapes })
    const r1 = countFlops({ model: c.model, inputs: shapes, schedule: v1 })
    const inBytes = c.inputs.reduce((s, t) => s + t.data.length, 0)
    const outBytes = Object.values(r.outputShapes).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1) * 4, 0)
    const gas = inferenceGas(BigInt(r.gas), inBytes, outBytes)
    rows.push({
      name: c.name,
      families: [...new Set(Object.keys(r.byOp).map(opFamily))].join('+'),
      gasV1: inferenceGas(BigInt(r1.gas), inBytes, outBytes, 1, v1),
      gas,
      // the session's run is compared with the call gas less the base (the call around the run) and less the
      // counting gas (the counting before it)
      measuredGas: Number(gas - CURRENT_GAS_SCHEDULE.base) - r.countGas,
      ms: [],
      ratios: [],
      cpuRatios: [],
      dump: { io: Math.ceil(inBytes / 32) + Math.ceil(outBytes / 32), ...components(c.model, shapes) },
    })
    modelIds.set(c.name, c)
  }
  for (const c of exampleCases()) {
    if (ONLY && !ONLY.test(c.name)) continue
    const shapes = Object.fromEntries(c.inputs.map((t) => [t.name, t.shape]))
    const r = countFlops({ model: c.model, inputs: shapes })
    const r1 = countFlops({ model: c.model, inputs: shapes, schedule: v1 })
    const inBytes = c.inputs.reduce((s, t) => s + t.data.length, 0)
    const outBytes = Object.values(r.outputShapes).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1) * 4, 0)
    const gas = inferenceGas(BigInt(r.gas), inBytes, outBytes)
    examples.push({
      name: c.name,
      families: [...new Set(Object.keys(r.byOp).map(opFamily))].join('+'),
      gasV1: inferenceGas(BigInt(r1.gas), inBytes, outBytes, 1, v1),
      gas,
      // a whole call through the node, plus counting its shape cold (the node caches reports, gas may not),
      // is compared with the precompile's gas (calldata is the EVM's)
      measuredGas: Number(gas),
      ms: [],
      ratios: [],
      cpuRatios: [],
      dump: {
        io: Number(CURRENT_GAS_SCHEDULE.base) + Math.ceil(inBytes / 32) + Math.ceil(outBytes / 32),
        ...components(c.model, shapes),
      },
    })
    modelIds.set(c.name, c)
  }
  const refused: Row[] = []
  for (const c of refusedCases()) {
    if (ONLY && !ONLY.test(c.name)) continue
    const counter = createFlopCounter({ model: c.model })
    const gas = CURRENT_GAS_SCHEDULE.base + counter.countGas
    refused.push({
      name: c.name,
      families: 'counting',
      gasV1: GAS_SCHEDULES['consensus-v1'].base,
      gas,
      // a call refused at its last node pays the base and the counting gas, charged before counting
      measuredGas: Number(gas),
      ms: [],
      ratios: [],
      cpuRatios: [],
      dump: { io: Number(CURRENT_GAS_SCHEDULE.base), count: Number(counter.countGas) },
    })
    modelIds.set(c.name, c)
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const row of rows) {
      const c = modelIds.get(row.name) as Case
      try {
        const t = await runNs(c)
        record(row, t, await evmRef.perGas('keccak', 3))
      } catch (err) {
        console.log(`${row.name}: failed: ${(err as Error).message.split('\n')[0]}`)
      }
    }
    // the family cases leave hundreds of MiB of garbage: collected here, or the first example's runs pay for it
    // (iris, timed first, came out 4-9x slower per gas than bigram over four runs without this)
    collectGarbage()
    for (const row of examples) {
      const c = modelIds.get(row.name) as Case
      // small calls are a few ms on a loaded machine: the median of 15 runs
      const call = await evmRef.inferCall(`${row.name.replace('example: ', '')}-${round}`, c.model, c.inputs, {
        runs: 15,
      })
      const counting = countNs(c)
      record(row, { wall: call.ns + counting.wall, cpu: call.cpuNs + counting.cpu }, await evmRef.perGas('keccak', 3))
    }
    for (const row of refused) {
      const c = modelIds.get(row.name) as Case
      const name = `${row.name.replace(/\W+/g, '-')}-${round}`
      const call = await evmRef.inferCall(name, c.model, c.inputs, { runs: 3, allowFailure: true })
      if (!call.error) throw new TypeError(`${row.name}: expected a refusal, the call ran`)
      record(row, { wall: call.ns, cpu: call.cpuNs }, await evmRef.perGas('keccak', 3))
    }
  }
  await evmRef.close()

  console.log(
    `\nconsensus runtime: ${CONSENSUS_PROFILE.id}; gas schedule: ${CURRENT_GAS_SCHEDULE.id}; ${ROUNDS} round(s)`,
  )
  const cpu = (l: 'sstore' | 'ecrecover') => (evmTimes[l].cpu / cpuRef).toFixed(2)
  console.log(`EVM keccak loop: ${ref.toFixed(1)} ns/gas wall, ${cpuRef.toFixed(1)} ns/gas CPU (reference)`)
  console.log(
    `EVM SSTORE loop: ${evm.sstore.toFixed(1)} ns/gas (${(evm.sstore / ref).toFixed(2)}x the reference; CPU ${cpu('sstore')}x)`,
  )
  console.log(
    `EVM ecrecover loop: ${evm.ecrecover.toFixed(1)} ns/gas (${(evm.ecrecover / ref).toFixed(2)}x the reference; CPU ${cpu('ecrecover')}x)\n`,
  )
  console.log('Ratio: time per gas / keccak-loop time per gas (the loop timed right after each case; median of')
  console.log('rounds). Op families: the session run against the call gas less the base (which pays for the call')
  console.log('around the run) and the counting gas. Examples: the whole call through the node plus counting its')
  console.log('shape cold, against the precompile gas. Refused: a call refused by the memory bound at its last node')
  console.log('(the whole call, counting included), against the base and counting gas it pays. "cpu ratio": the same')
  console.log("on this process's CPU time (all threads) instead of wall time, which a loaded machine moves far less.\n")
  console.log('| case | families | call gas v1 | call gas v2 | ms (median) | ratio | cpu ratio |')
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
  const all: number[] = []
  const allCpu: number[] = []
  const dump: unknown[] = []
  for (const row of [...rows, ...examples, ...refused]) {
    if (row.ratios.length === 0) continue
    const ratio = median(row.ratios)
    const cpuRatio = median(row.cpuRatios)
    all.push(ratio)
    allCpu.push(cpuRatio)
    console.log(
      `| ${row.name} | ${row.families} | ${row.gasV1} | ${row.gas} | ${median(row.ms).toFixed(2)} | ${ratio.toFixed(2)} | ${cpuRatio.toFixed(2)} |`,
    )
    // what the weights must buy, in gas, for a ratio of 1
    if (DUMP && row.dump) dump.push({ name: row.name, need: ratio * row.measuredGas, ...row.dump })
  }
  if (DUMP) writeFileSync(DUMP, JSON.stringify(dump, null, 1))
  console.log(
    `\nevery case: time per gas from ${Math.min(...all).toFixed(2)}x to ${Math.max(...all).toFixed(2)}x the keccak loop (target 0.5..2)`,
  )
  console.log(
    `every case, CPU time: from ${Math.min(...allCpu).toFixed(2)}x to ${Math.max(...allCpu).toFixed(2)}x the keccak loop's CPU time per gas (target 0.5..2)`,
  )
}

if (process.argv.includes('--vectors')) await import('./gas-vectors.ts')
else await main()
