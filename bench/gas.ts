/**
 * Calibrates FLOPs-per-gas: wall time of one gas of ordinary EVM execution (a hashing/arithmetic/storage
 * loop run by our node's EVM) against wall time per FLOP of the example models under the consensus profile,
 * measured in the same run. Prints, per model, the ratio (inference time per gas) / (EVM time per gas) with
 * the current `INFERENCE_GAS.flopsPerGas`; the target is 0.5..2.
 *
 *   npm run bench:gas
 */
import '../src/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { Interface } from 'ethers'
import { exampleModels, squareImage } from '../examples/models/index.ts'
import { startDevnet } from '../src/cli/devnet.ts'
import { countFlops } from '../src/inference/flops.ts'
import { createConsensusSession } from '../src/inference/onnx.ts'
import type { Tensor } from '../src/inference/tensor.ts'
import { INFERENCE_GAS, inferenceGas } from '../src/precompiles/params.ts'
import { compileContract, REPO_ROOT } from '../test/helpers/solc.ts'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function evmNsPerGas(): Promise<number> {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-gasbench-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  try {
    const { abi, bytecode } = compileContract(`${REPO_ROOT}bench/fixtures/Work.sol`, 'Work')
    const from = devnet.accounts[0].address
    const hash = await devnet.node.sendTransaction({ from, data: hexToBytes(bytecode), gas: 3_000_000n })
    const loc = await devnet.node.chain.getTransaction(hash)
    const [receipt] = await devnet.node.chain.getReceipts(loc!.block.hash())
    const to = createAddressFromString(`0x${Buffer.from(receipt.contractAddress!).toString('hex')}`)
    const data = hexToBytes(new Interface(abi).encodeFunctionData('work', [20_000]) as `0x${string}`)
    const samples: number[] = []
    for (let i = 0; i < 7; i++) {
      const t0 = process.hrtime.bigint()
      const r = await devnet.node.execute({ from, to, data, gas: 16_000_000n }, devnet.node.chain.head)
      const ns = Number(process.hrtime.bigint() - t0)
      samples.push(ns / Number(r.totalGasSpent))
    }
    return median(samples.slice(2))
  } finally {
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
}

interface ModelCase {
  name: string
  bytes: Uint8Array
  inputs: Tensor[]
}

async function inferenceNsPerFlop(c: ModelCase): Promise<{ flops: number; ms: number; nsPerFlop: number }> {
  const shapes = Object.fromEntries(c.inputs.map((t) => [t.name, t.shape]))
  const { flops } = countFlops({ model: c.bytes, inputs: shapes })
  const session = await createConsensusSession({ model: c.bytes })
  try {
    for (let i = 0; i < 2; i++) await session.run(c.inputs)
    const samples: number[] = []
    const deadline = performance.now() + 3000
    while (samples.length < 5 || (performance.now() < deadline && samples.length < 50)) {
      const t0 = process.hrtime.bigint()
      await session.run(c.inputs)
      samples.push(Number(process.hrtime.bigint() - t0))
    }
    const ns = median(samples)
    return { flops, ms: ns / 1e6, nsPerFlop: ns / flops }
  } finally {
    await session.dispose()
  }
}

async function main(): Promise<void> {
  const models = exampleModels()
  const cases: ModelCase[] = models
    .filter((m) => m.name !== 'iris' && m.name !== 'silero-vad')
    .map((m) => ({ name: m.name, bytes: m.bytes, inputs: m.sampleInput }))
  const edges = models.find((m) => m.name === 'edges')!
  cases.push({ name: 'edges 224x224', bytes: edges.bytes, inputs: [squareImage(224, 224)] })

  const evm = await evmNsPerGas()
  console.log(`\nEVM: ${evm.toFixed(1)} ns per gas (Work.work(20000) through the node's EVM)`)
  console.log(`flopsPerGas = ${INFERENCE_GAS.flopsPerGas}\n`)
  console.log(
    '| model | FLOPs | run ms | FLOPs per gas for parity | compute gas: inference/EVM time | all gas (base+bytes+compute): inference/EVM time |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
  const ratios: number[] = []
  for (const c of cases) {
    const r = await inferenceNsPerFlop(c)
    const computeGas = r.flops / Number(INFERENCE_GAS.flopsPerGas)
    const bytes = c.inputs.reduce((s, t) => s + t.data.length, 0)
    const allGas = Number(inferenceGas(BigInt(r.flops), bytes, 0))
    const computeRatio = (r.ms * 1e6) / (computeGas * evm)
    const allRatio = (r.ms * 1e6) / (allGas * evm)
    // the calibration target is where compute dominates: models of 5 ms and more
    if (r.ms >= 5) ratios.push(computeRatio)
    console.log(
      `| ${c.name} | ${r.flops.toExponential(2)} | ${r.ms.toFixed(2)} | ${(evm / r.nsPerFlop).toFixed(0)} | ${computeRatio.toFixed(2)} | ${allRatio.toFixed(2)} |`,
    )
  }
  const geo = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length)
  console.log(
    `\ncalibration ratio (geometric mean over models >= 5 ms, compute gas): ${geo.toFixed(2)} (target 0.5..2)`,
  )
  console.log('Smaller models pay the base cost, which is worth more EVM time than their run takes.')
}

await main()
