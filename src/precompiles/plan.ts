import type { StateManagerInterface } from '@ethereumjs/common'
import type { PrecompileInput } from '@ethereumjs/evm'
import { LatticeError } from '../errors.ts'
import type { FlopCounter, FlopReport, InputShape } from '../inference/flops.ts'
import { createFlopCounter, findNondeterministicOps } from '../inference/flops.ts'
import type { GraphIO } from '../inference/graph-io.ts'
import { graphIO } from '../inference/graph-io.ts'
import type { Tensor, TensorLimits } from '../inference/tensor.ts'
import { DType, dtypeCode, elementBytes, fixedDecimals, numElements, tensorValues } from '../inference/tensor.ts'
import { validateInputs } from '../inference/validate.ts'
import { MODEL_REGISTRY_ADDRESS } from './addresses.ts'
import { InferenceRevert, ModelUnavailableError } from './errors.ts'
import { type GasSchedule, INFERENCE_LIMITS, inferenceGas } from './params.ts'
import type { RegistryEntry } from './registry.ts'
import { isAllowlisted, readRegistryEntry } from './registry.ts'
import { AccessPolicy, ModelStatus } from './registry-layout.ts'

/** Where model bytes come from: the local model cache, then IPFS; the package digest is checked. */
export interface ModelSource {
  getModelBytes(cid: string, expectedDigest: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array>
}

/** What the precompile learns once per model: its inputs and outputs, and its FLOP counter. */
export interface Analysis {
  io: GraphIO
  /** Every model input declares a dynamic first dimension. */
  batchable: boolean
  /** The decoded graph, for FLOP counting with new shapes. */
  counter: FlopCounter
}

/** A priced call: the registry entry, FLOPs, gas and output size, known before anything runs. */
export interface Plan {
  entry: RegistryEntry
  flops: bigint
  gas: bigint
  outputDecimals?: number
  /** Outputs' byte size. */
  outBytes: number
}

/** Gas a call has been charged so far: what a deterministic failure costs. */
export interface Charge {
  gas: bigint
}

/** A call's charge and gas limit: each count is charged before it runs (FlopCounter.countGas). */
export interface Payer {
  charge: Charge
  gasLimit: bigint
}

const MAX_CACHED_REPORTS = 4096
/** Integer inputs up to this many elements pass their values to the FLOP counter. */
const MAX_SHAPE_VALUES = 64

/** Options for {@link createPlanner}. */
export interface PlannerOpts {
  models: ModelSource
  limits: TensorLimits
  /** Prices and memory bound of the chain's consensus profile. */
  schedule: GasSchedule
}

/**
 * Everything decided about a call before it runs (registry entry and access, model analysis, input checks,
 * FLOP report, output cap, gas), with the per-model and per-shape caches.
 */
export type Planner = ReturnType<typeof createPlanner>

/** Create the precompile's planner; its caches live as long as the precompile. */
export function createPlanner(opts: PlannerOpts) {
  const { limits, schedule } = opts
  const analyses = new Map<string, Analysis>()
  const reports = new Map<string, FlopReport>()
  const registry = MODEL_REGISTRY_ADDRESS.toLowerCase()

  async function modelBytes(entry: RegistryEntry): Promise<Uint8Array> {
    try {
      return await opts.models.getModelBytes(entry.cid, entry.digest)
    } catch (err) {
      throw new ModelUnavailableError(entry.modelId, entry.cid, err)
    }
  }

  async function analyse(entry: RegistryEntry): Promise<Analysis> {
    const hit = analyses.get(entry.digest)
    if (hit) return hit
    // fetched and verified first: a node without the bytes refuses before doing any work on the call
    const bytes = await modelBytes(entry)
    // from here the bytes are the registered ones, so anything that fails on them fails on every node
    let io: GraphIO
    let random: string[]
    let counter: FlopCounter
    try {
      io = graphIO(bytes)
      random = findNondeterministicOps(bytes)
      counter = createFlopCounter({ model: bytes, schedule })
    } catch (err) {
      const why = err instanceof LatticeError ? err.shortMessage : (err as Error).message
      throw new InferenceRevert(`model ${entry.modelId} cannot be decoded: ${why}`)
    }
    // random ops would give every validator a different answer
    if (random.length > 0) {
      throw new InferenceRevert(
        `model ${entry.modelId} uses nondeterministic ops (${random.join(', ')}) and cannot run on-chain`,
      )
    }
    const a = {
      io,
      batchable: io.inputs.every((i) => typeof i.shape[0] === 'string'),
      counter,
    }
    if (analyses.size >= MAX_CACHED_REPORTS) analyses.delete(analyses.keys().next().value as string)
    analyses.set(entry.digest, a)
    return a
  }

  async function flopReport(
    entry: RegistryEntry,
    a: Analysis,
    shapes: Record<string, InputShape>,
    pay?: Payer,
  ): Promise<FlopReport> {
    // charged whether or not the report is cached (gas never depends on cache state), and before counting, so
    // a call refused while counting pays for the counting
    if (pay) {
      pay.charge.gas += a.counter.countGas
      if (pay.charge.gas > pay.gasLimit) {
        throw new InferenceRevert(
          `out of gas: counting model ${entry.modelId} costs ${a.counter.countGas} gas, over the call's gas`,
        )
      }
    }
    const key = `${entry.digest}:${JSON.stringify(shapes, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`
    const hit = reports.get(key)
    if (hit) return hit
    let report: FlopReport
    try {
      report = a.counter.count(shapes)
    } catch (err) {
      throw new InferenceRevert(err instanceof LatticeError ? err.shortMessage : (err as Error).message)
    }
    if (reports.size >= MAX_CACHED_REPORTS) reports.delete(reports.keys().next().value as string)
    reports.set(key, report)
    return report
  }

  async function entryFor(
    sm: StateManagerInterface,
    modelId: string,
    caller: string | undefined,
  ): Promise<RegistryEntry> {
    const entry = await readRegistryEntry(sm, modelId)
    if (entry.status === ModelStatus.none) throw new InferenceRevert(`unknown model ${modelId}`)
    if (entry.status !== ModelStatus.active) throw new InferenceRevert(`model ${modelId} is not active (deprecated)`)
    // ModelRegistry.infer checks access and payment for its own caller before forwarding
    if (caller === registry) return entry
    if (entry.policy === AccessPolicy.private && caller !== entry.owner) {
      throw new InferenceRevert(`caller ${caller} is not allowed to run model ${modelId} (private to its owner)`)
    }
    if (
      entry.policy === AccessPolicy.allowlist &&
      caller !== entry.owner &&
      !(caller && (await isAllowlisted(sm, modelId, caller)))
    ) {
      throw new InferenceRevert(`caller ${caller} is not allowed to run model ${modelId} (not on its allowlist)`)
    }
    if (entry.price > 0n) {
      throw new InferenceRevert(
        `model ${modelId} costs ${entry.price} wei per inference: call ModelRegistry.infer (${MODEL_REGISTRY_ADDRESS}) with that value`,
      )
    }
    return entry
  }

  function validate(inputs: Tensor[], a: Analysis): void {
    try {
      validateInputs(inputs, a.io.inputs, limits)
    } catch (err) {
      throw new InferenceRevert(err instanceof LatticeError ? err.shortMessage : (err as Error).message)
    }
  }

  /** Shapes for the FLOP counter; small integer inputs also pass their values (they may decide shapes or an `If`). */
  const shapesOf = (inputs: Tensor[]): Record<string, InputShape> =>
    Object.fromEntries(
      inputs.map((t) => [
        t.name,
        (t.dtype === DType.int64 || t.dtype === DType.int32) && numElements(t.shape) <= MAX_SHAPE_VALUES
          ? { shape: t.shape, values: tensorValues(t) as (number | bigint)[] }
          : t.shape,
      ]),
    )
  const dataBytes = (ts: readonly Tensor[]) => ts.reduce((s, t) => s + t.data.length, 0)

  function decimalsOf(inputs: Tensor[]): number | undefined {
    let d: number | undefined
    for (const t of inputs) {
      const x = fixedDecimals(t.dtype)
      if (x !== undefined) d = d === undefined ? x : Math.max(d, x)
    }
    return d
  }

  function outputBytes(a: Analysis, report: FlopReport, decimals: number | undefined): number {
    let total = 0
    for (const o of a.io.outputs) {
      const shape = report.outputShapes[o.name]
      if (!shape) continue
      const isFloat = o.dtype === 'float32' || o.dtype === 'float16' || o.dtype === 'float64'
      const per = decimals !== undefined && isFloat ? 32 : safeElementBytes(o.dtype)
      total += numElements(shape) * per
    }
    return total
  }

  /**
   * Refuse a call whose outputs would be over INFERENCE_LIMITS.maxOutputBytes, before anything is allocated:
   * output shapes are known statically, so this names the tensor and its size instead of running out of memory.
   */
  function capOutputs(a: Analysis, report: FlopReport, decimals: number | undefined, items = 1): void {
    const cap = INFERENCE_LIMITS.maxOutputBytes
    let total = 0
    let largest = { name: '', bytes: 0 }
    for (const o of a.io.outputs) {
      const shape = report.outputShapes[o.name]
      if (!shape) continue
      const isFloat = o.dtype === 'float32' || o.dtype === 'float16' || o.dtype === 'float64'
      const bytes = numElements(shape) * (decimals !== undefined && isFloat ? 32 : safeElementBytes(o.dtype)) * items
      if (bytes > cap) {
        throw new InferenceRevert(
          `output tensor "${o.name}" of shape ${JSON.stringify(shape)} would be ${bytes} bytes, over the ${cap}-byte limit on one call's outputs`,
        )
      }
      if (bytes > largest.bytes) largest = { name: o.name, bytes }
      total += bytes
    }
    if (total > cap) {
      throw new InferenceRevert(
        `outputs would be ${total} bytes (largest: tensor "${largest.name}", ${largest.bytes} bytes), over the ${cap}-byte limit on one call's outputs`,
      )
    }
  }

  async function plan(
    sm: StateManagerInterface,
    modelId: string,
    inputs: Tensor[],
    caller: string | undefined,
    pay?: Payer,
  ): Promise<Plan & { a: Analysis }> {
    const entry = await entryFor(sm, modelId, caller)
    const a = await analyse(entry)
    validate(inputs, a)
    const report = await flopReport(entry, a, shapesOf(inputs), pay)
    const outputDecimals = decimalsOf(inputs)
    capOutputs(a, report, outputDecimals)
    const outBytes = outputBytes(a, report, outputDecimals)
    const flops = BigInt(report.flops)
    const gas = inferenceGas(BigInt(report.gas), dataBytes(inputs), outBytes, 1, schedule)
    return { entry, a, flops, gas, outputDecimals, outBytes }
  }

  return {
    modelBytes,
    analyse,
    flopReport,
    entryFor,
    validate,
    shapesOf,
    dataBytes,
    decimalsOf,
    outputBytes,
    capOutputs,
    plan,
  }
}

/** The state the precompile reads: the frame's (ethereumjs passes it on the input) or the EVM's. */
export function smOf(input: PrecompileInput): StateManagerInterface {
  return (input as PrecompileInput & { stateManager: StateManagerInterface }).stateManager ?? input._EVM.stateManager
}

/** Bytes per element of a model output's dtype name (types the codec does not carry: their natural width). */
function safeElementBytes(dtype: string): number {
  if (Object.hasOwn(DType, dtype)) return elementBytes(dtypeCode(dtype))
  return dtype === 'float64' || dtype === 'uint64' ? 8 : 4
}
