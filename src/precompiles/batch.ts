import type { ExecResult, PrecompileInput } from '@ethereumjs/evm'
import type { Tensor } from '../inference/tensor.ts'
import { decodeInferBatch, encodeTensorBatch } from './abi.ts'
import { InferenceRevert } from './errors.ts'
import { type GasSchedule, INFERENCE_LIMITS, inferenceGas } from './params.ts'
import type { Charge, Planner } from './plan.ts'
import { smOf } from './plan.ts'
import type { CallTracker } from './records.ts'
import type { RegistryEntry } from './registry.ts'

/** What inferBatch needs from the precompile around it. */
export interface BatchContext {
  planner: Planner
  schedule: GasSchedule
  /** Run the model's session (counts a run); `gas` is the run's static cost (tiny runs skip the worker). */
  run(entry: RegistryEntry, inputs: Tensor[], outputDecimals: number | undefined, gas: bigint): Promise<Tensor[]>
  /** Record one item's inference on the transaction's tracker. */
  record(
    input: PrecompileInput,
    tracker: CallTracker | undefined,
    modelId: string,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
    flops: bigint,
    gas: bigint,
  ): void
  outOfGas(gasLimit: bigint): ExecResult
}

/**
 * inferBatch: items of identical shape run as one stacked session run when the model's first dimension is
 * dynamic and its outputs split back by item; otherwise every item is priced, then each runs in turn.
 */
export async function inferBatch(
  ctx: BatchContext,
  input: PrecompileInput,
  tracker: CallTracker | undefined,
  caller: string | undefined,
  charge: Charge,
): Promise<ExecResult> {
  const { entryFor, analyse, validate, decimalsOf, dataBytes, flopReport, shapesOf, capOutputs, outputBytes } =
    ctx.planner
  const { schedule, run, record, outOfGas } = ctx
  const { modelId, batch } = decodeInferBatch(input.data)
  if (batch.length === 0) throw new InferenceRevert('inferBatch: the batch is empty')
  if (batch.length > INFERENCE_LIMITS.maxBatch) {
    throw new InferenceRevert(`inferBatch: ${batch.length} items, the limit is ${INFERENCE_LIMITS.maxBatch}`)
  }
  const sm = smOf(input)
  const entry = await entryFor(sm, modelId, caller)
  const a = await analyse(entry)
  batch.forEach((item, i) => {
    try {
      validate(item, a)
    } catch (err) {
      throw new InferenceRevert(`batch[${i}]: ${(err as Error).message}`)
    }
  })
  const outputDecimals = decimalsOf(batch.flat())
  const inBytes = dataBytes(batch.flat())
  const stacked = a.batchable ? stack(batch) : undefined
  const pay = { charge, gasLimit: input.gasLimit }
  if (stacked) {
    const report = await flopReport(entry, a, shapesOf(stacked.inputs), pay)
    const splittable = a.io.outputs.every((o) => report.outputShapes[o.name]?.[0] === stacked.total)
    if (splittable) {
      capOutputs(a, report, outputDecimals)
      const flops = BigInt(report.flops)
      const outBytes = outputBytes(a, report, outputDecimals)
      const gas = inferenceGas(BigInt(report.gas), inBytes, outBytes, batch.length, schedule)
      if (gas > input.gasLimit) return outOfGas(input.gasLimit)
      charge.gas = gas
      const outputs = await run(entry, stacked.inputs, outputDecimals, gas)
      const perItem = unstack(outputs, stacked.sizes)
      for (const [i, out] of perItem.entries()) {
        record(input, tracker, modelId, batch[i], out, flops / BigInt(batch.length), gas / BigInt(batch.length))
      }
      return { returnValue: encodeTensorBatch(perItem), executionGasUsed: gas }
    }
    // the items are counted and charged one by one below; the stacked count is not part of the gas
    charge.gas -= a.counter.countGas
  }
  // sequential: every item's FLOPs are counted before the first run
  let graphGas = 0n
  let outBytes = 0
  const itemFlops: bigint[] = []
  for (const item of batch) {
    const report = await flopReport(entry, a, shapesOf(item), pay)
    capOutputs(a, report, outputDecimals)
    itemFlops.push(BigInt(report.flops))
    graphGas += BigInt(report.gas)
    outBytes += outputBytes(a, report, outputDecimals)
  }
  if (outBytes > INFERENCE_LIMITS.maxOutputBytes) {
    throw new InferenceRevert(
      `inferBatch: outputs would be ${outBytes} bytes in all, over the ${INFERENCE_LIMITS.maxOutputBytes}-byte limit on one call's outputs`,
    )
  }
  const gas = inferenceGas(graphGas, inBytes, outBytes, batch.length, schedule)
  if (gas > input.gasLimit) return outOfGas(input.gasLimit)
  charge.gas = gas
  const results: Tensor[][] = []
  for (const [i, item] of batch.entries()) {
    const out = await run(entry, item, outputDecimals, gas / BigInt(batch.length))
    record(input, tracker, modelId, item, out, itemFlops[i], gas / BigInt(batch.length))
    results.push(out)
  }
  return { returnValue: encodeTensorBatch(results), executionGasUsed: gas }
}

/** Stack identical-shaped items along dim 0; undefined when they differ. */
function stack(batch: Tensor[][]): { inputs: Tensor[]; total: number; sizes: number[] } | undefined {
  const first = batch[0]
  const sizes: number[] = []
  for (const item of batch) {
    if (item.length !== first.length) return undefined
    for (const t of item) {
      const ref = first.find((f) => f.name === t.name)
      if (!ref || ref.dtype !== t.dtype || ref.shape.length !== t.shape.length || ref.shape.length === 0)
        return undefined
      for (let d = 1; d < t.shape.length; d++) if (t.shape[d] !== ref.shape[d]) return undefined
    }
    const n = item[0].shape[0]
    if (item.some((t) => t.shape[0] !== n)) return undefined
    sizes.push(n)
  }
  const total = sizes.reduce((a, b) => a + b, 0)
  const inputs = first.map((ref) => {
    const parts = batch.map((item) => item.find((t) => t.name === ref.name)!.data)
    const data = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
    let off = 0
    for (const p of parts) {
      data.set(p, off)
      off += p.length
    }
    return { name: ref.name, dtype: ref.dtype, shape: [total, ...ref.shape.slice(1)], data }
  })
  return { inputs, total, sizes }
}

/** Split stacked outputs back into items by their dim-0 sizes. */
function unstack(outputs: Tensor[], sizes: number[]): Tensor[][] {
  const total = sizes.reduce((a, b) => a + b, 0)
  const items: Tensor[][] = sizes.map(() => [])
  for (const o of outputs) {
    const rowBytes = o.data.length / total
    let row = 0
    sizes.forEach((n, i) => {
      items[i].push({
        name: o.name,
        dtype: o.dtype,
        shape: [n, ...o.shape.slice(1)],
        data: o.data.slice(row * rowBytes, (row + n) * rowBytes),
      })
      row += n
    })
  }
  return items
}
