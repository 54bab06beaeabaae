/**
 * Runs every adversarial gas vector (test/precompiles/adversarial-vectors.json) through a devnet node's own EVM,
 * as an `infer` call with the EIP-7825 maximum of gas, and reports for each: refused (revert reason or out of gas,
 * before any work) or run, its gas, its time per gas against a keccak loop timed right after it, and the node
 * process's peak RSS (sampled every 10 ms; the WebAssembly runtime's workers are threads of the same process; the
 * harness runs in that process too, so the figure is an upper bound on the node's). Regenerate the vector file
 * first (test/precompiles/adversarial-vectors.gen.ts) so its planned gas matches the current schedule.
 *
 *   node --expose-gc --import tsx bench/gas-vectors.ts   (or npm run bench:gas -- --vectors, without the collections)
 */
import { readFileSync } from 'node:fs'
import { createFlopCounter } from '../src/inference/flops.ts'
import { DType, type Tensor, tensorFromValues } from '../src/inference/tensor.ts'
import { INFERENCE_GAS } from '../src/precompiles/params.ts'
import { recipeModel } from '../test/helpers/gas-models.ts'
import type { AdversarialVector } from '../test/precompiles/adversarial-vectors.ts'
import { startEvmRef } from './evm-ref.ts'

const vectors = JSON.parse(
  readFileSync(new URL('../test/precompiles/adversarial-vectors.json', import.meta.url), 'utf8'),
) as AdversarialVector[]

function inputsOf(v: AdversarialVector): Tensor[] {
  return Object.entries(v.input).map(([name, t]) => {
    const n = t.shape.reduce((a, b) => a * b, 1)
    if (t.dtype === 'int64') return tensorFromValues(name, DType.int64, t.shape, (t.values ?? []).map(BigInt))
    return tensorFromValues(
      name,
      DType.float32,
      t.shape,
      Array.from({ length: n }, (_, i) => (i % 7) / 7),
    )
  })
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`

/** Median time, ns, of counting a vector's model for its input cold (what a node does for a shape it has not seen). */
function countNs(model: Uint8Array, v: AdversarialVector): number {
  const counter = createFlopCounter({ model })
  const shapes = Object.fromEntries(
    Object.entries(v.input).map(([name, t]) => [name, t.values ? { shape: t.shape, values: t.values } : t.shape]),
  )
  const samples: number[] = []
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint()
    counter.count(shapes)
    samples.push(Number(process.hrtime.bigint() - t0))
  }
  return samples.sort((a, b) => a - b)[2]
}

/** What a call refused at or after counting pays: the base and the model's counting gas. */
function refusedGas(model: Uint8Array): bigint | undefined {
  try {
    return INFERENCE_GAS.base + createFlopCounter({ model }).countGas
  } catch {
    return undefined
  }
}

async function main(): Promise<void> {
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  const evm = await startEvmRef()
  console.log(`node RSS at start (devnet up, examples deployed): ${mib(process.memoryUsage().rss)}\n`)
  console.log('Gas: the transaction (calldata included) and the precompile (for a refusal: the base and the counting')
  console.log('gas it pays); the ratio is time per precompile gas against the keccak loop.\n')
  console.log('| vector | outcome | tx gas | precompile gas | ms | time per gas / keccak | peak RSS so far |')
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
  try {
    for (const [i, v] of vectors.entries()) {
      const model = recipeModel(v.recipe, v.params)
      const call = await evm.inferCall(`vector-${i}`, model, inputsOf(v), { runs: 1, allowFailure: true })
      const ref = await evm.nsPerGas('keccak', 3)
      // collect the harness's garbage between vectors (run with --expose-gc): what stays is what the node keeps
      ;(globalThis as { gc?: () => void }).gc?.()
      // the planned gas from the vector file: recounting here would add the harness's own memory to the RSS; a
      // refused call pays the base and the counting gas (charged before counting), known from the model alone
      const gas = v.expectedGas ? BigInt(v.expectedGas) : refusedGas(model)
      const outcome = call.error ? `refused: ${call.error}` : 'ran'
      // a call that ran was timed warm (its report cached by the node); its gas also pays counting it cold
      const ns = call.error ? call.ns : call.ns + countNs(model, v)
      const ratio = gas ? (ns / Number(gas) / ref).toFixed(2) : ''
      console.log(
        `| ${v.name} | ${outcome.slice(0, 100)} | ${call.gas} | ${gas ?? ''} | ${(ns / 1e6).toFixed(1)} | ${ratio} | ${mib(peak)} |`,
      )
    }
  } finally {
    await evm.close()
    clearInterval(sampler)
  }
  console.log(`\npeak RSS of the node process over the whole vector run: ${mib(peak)} (limit 1024 MiB)`)
}

await main()
