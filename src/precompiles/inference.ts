import type { StateManagerInterface } from '@ethereumjs/common'
import type { EVMInterface, ExecResult, PrecompileInput } from '@ethereumjs/evm'
import { EVMError } from '@ethereumjs/evm'
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { LatticeError } from '../errors.ts'
import type { SessionCache } from '../inference/cache.ts'
import type { FlopCounter, FlopReport, InputShape } from '../inference/flops.ts'
import { createFlopCounter, findNondeterministicOps } from '../inference/flops.ts'
import type { GraphIO } from '../inference/graph-io.ts'
import { graphIO } from '../inference/graph-io.ts'
import type { Tensor, TensorLimits } from '../inference/tensor.ts'
import {
  DEFAULT_TENSOR_LIMITS,
  DType,
  dtypeCode,
  elementBytes,
  fixedDecimals,
  numElements,
  tensorValues,
} from '../inference/tensor.ts'
import { validateInputs } from '../inference/validate.ts'
import {
  decodeInfer,
  decodeInferBatch,
  encodeError,
  encodeEstimate,
  encodeTensorBatch,
  encodeTensors,
  methodOf,
  SELECTORS,
} from './abi.ts'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from './addresses.ts'
import { InferenceInternalError, InferenceRevert, isNodeLocalFailure, ModelUnavailableError } from './errors.ts'
import { CURRENT_GAS_SCHEDULE, type GasSchedule, INFERENCE_GAS, INFERENCE_LIMITS, inferenceGas } from './params.ts'
import type { InferenceRecord } from './records.ts'
import { CallTracker } from './records.ts'
import type { RegistryEntry } from './registry.ts'
import { isAllowlisted, readRegistryEntry } from './registry.ts'
import { AccessPolicy, ModelStatus } from './registry-layout.ts'

/** Where model bytes come from: the local model cache, then IPFS; the package digest is checked. */
export interface ModelSource {
  getModelBytes(cid: string, expectedDigest: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array>
}

/** Options for {@link createInferencePrecompile}. */
export interface InferencePrecompileOpts {
  models: ModelSource
  /** Loaded sessions; for state-changing execution its profile must be the consensus profile. */
  sessions: SessionCache
  /** Tensor limits per call (default DEFAULT_TENSOR_LIMITS). */
  limits?: TensorLimits
  /** Prices and memory bound: the chain's consensus profile's (default CURRENT_GAS_SCHEDULE). */
  gasSchedule?: GasSchedule
}

/** Counters, for RPC and tests. */
export interface InferenceStats {
  /** Calls that reached the precompile. */
  calls: number
  /** Session runs started (a stacked batch counts once). */
  runs: number
  reverts: number
  outOfGas: number
  /** Calls refused because of a failure local to this node (model unavailable here, internal error). */
  localFailures: number
}

/** The precompile plus the hooks the chain needs to run it. */
export interface InferencePrecompile {
  /** For ethereumjs' `customPrecompiles`. */
  customPrecompile: {
    address: ReturnType<typeof createAddressFromString>
    function: (input: PrecompileInput) => Promise<ExecResult>
  }
  /** Follow an EVM's call frames (call once per EVM instance that may run the precompile). */
  attach(evm: EVMInterface): void
  /** Records of the transaction that just ran on `evm` (empty if it reverted). */
  takeTxRecords(evm: EVMInterface): InferenceRecord[]
  /**
   * FLOPs and gas of a call, without running (used by `estimate` and lattice_estimateInference), with the
   * access checks for `caller` (ModelRegistry's address: a call it forwards after its own checks).
   */
  estimate(
    sm: StateManagerInterface,
    modelId: string,
    inputs: Tensor[],
    caller?: string,
  ): Promise<{ flops: bigint; gas: bigint }>
  readonly stats: InferenceStats
}

interface Analysis {
  io: GraphIO
  /** Every model input declares a dynamic first dimension. */
  batchable: boolean
  /** The decoded graph, for FLOP counting with new shapes. */
  counter: FlopCounter
}

interface Plan {
  entry: RegistryEntry
  flops: bigint
  gas: bigint
  outputDecimals?: number
  /** Outputs' byte size. */
  outBytes: number
}

/** Gas a call has been charged so far: what a deterministic failure costs. */
interface Charge {
  gas: bigint
}

const MAX_CACHED_REPORTS = 4096
/** Integer inputs up to this many elements pass their values to the FLOP counter. */
const MAX_SHAPE_VALUES = 64

/** Create the inference precompile at 0x…0A11. */
export function createInferencePrecompile(opts: InferencePrecompileOpts): InferencePrecompile {
  const limits = opts.limits ?? DEFAULT_TENSOR_LIMITS
  const schedule = opts.gasSchedule ?? CURRENT_GAS_SCHEDULE
  const trackers = new WeakMap<EVMInterface, CallTracker>()
  const analyses = new Map<string, Analysis>()
  const reports = new Map<string, FlopReport>()
  const stats: InferenceStats = { calls: 0, runs: 0, reverts: 0, outOfGas: 0, localFailures: 0 }
  const registry = MODEL_REGISTRY_ADDRESS.toLowerCase()
  const self = INFERENCE_PRECOMPILE_ADDRESS.toLowerCase()

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
  ): Promise<FlopReport> {
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
  ): Promise<Plan & { a: Analysis }> {
    const entry = await entryFor(sm, modelId, caller)
    const a = await analyse(entry)
    validate(inputs, a)
    const report = await flopReport(entry, a, shapesOf(inputs))
    const outputDecimals = decimalsOf(inputs)
    capOutputs(a, report, outputDecimals)
    const outBytes = outputBytes(a, report, outputDecimals)
    const flops = BigInt(report.flops)
    const gas = inferenceGas(BigInt(report.gas), dataBytes(inputs), outBytes, 1, schedule)
    return { entry, a, flops, gas, outputDecimals, outBytes }
  }

  function record(
    input: PrecompileInput,
    tracker: CallTracker | undefined,
    modelId: string,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
    flops: bigint,
    gas: bigint,
  ): void {
    if (!tracker) return
    // the chain's keccak (native where available): inputs can be hundreds of kilobytes
    const hash = input.common.customCrypto.keccak256 ?? keccak256
    tracker.record({
      modelId,
      inputHash: bytesToHex(hash(encodeTensors(inputs))),
      outputHash: bytesToHex(hash(encodeTensors(outputs))),
      flops,
      gasUsed: gas,
    })
  }

  async function run(entry: RegistryEntry, inputs: Tensor[], outputDecimals: number | undefined): Promise<Tensor[]> {
    stats.runs++
    return opts.sessions.run(entry.digest, () => modelBytes(entry), inputs, { outputDecimals, validated: true })
  }

  async function infer(
    input: PrecompileInput,
    tracker: CallTracker | undefined,
    caller: string | undefined,
    charge: Charge,
  ): Promise<ExecResult> {
    const { modelId, inputs } = decodeInfer(input.data)
    const p = await plan(smOf(input), modelId, inputs, caller)
    if (p.gas > input.gasLimit) return outOfGas(input.gasLimit)
    // from here a deterministic failure (runtime error, NaN in a fixed-point output) costs the planned gas
    charge.gas = p.gas
    const outputs = await run(p.entry, inputs, p.outputDecimals)
    record(input, tracker, modelId, inputs, outputs, p.flops, p.gas)
    return { returnValue: encodeTensors(outputs), executionGasUsed: p.gas }
  }

  async function inferBatch(
    input: PrecompileInput,
    tracker: CallTracker | undefined,
    caller: string | undefined,
    charge: Charge,
  ): Promise<ExecResult> {
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
    if (stacked) {
      const report = await flopReport(entry, a, shapesOf(stacked.inputs))
      const splittable = a.io.outputs.every((o) => report.outputShapes[o.name]?.[0] === stacked.total)
      if (splittable) {
        capOutputs(a, report, outputDecimals)
        const flops = BigInt(report.flops)
        const outBytes = outputBytes(a, report, outputDecimals)
        const gas = inferenceGas(BigInt(report.gas), inBytes, outBytes, batch.length, schedule)
        if (gas > input.gasLimit) return outOfGas(input.gasLimit)
        charge.gas = gas
        const outputs = await run(entry, stacked.inputs, outputDecimals)
        const perItem = unstack(outputs, stacked.sizes)
        for (const [i, out] of perItem.entries()) {
          record(input, tracker, modelId, batch[i], out, flops / BigInt(batch.length), gas / BigInt(batch.length))
        }
        return { returnValue: encodeTensorBatch(perItem), executionGasUsed: gas }
      }
    }
    // sequential: every item's FLOPs are counted before the first run
    let flops = 0n
    let graphGas = 0n
    let outBytes = 0
    const itemFlops: bigint[] = []
    for (const item of batch) {
      const report = await flopReport(entry, a, shapesOf(item))
      capOutputs(a, report, outputDecimals)
      itemFlops.push(BigInt(report.flops))
      flops += BigInt(report.flops)
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
      const out = await run(entry, item, outputDecimals)
      record(input, tracker, modelId, item, out, itemFlops[i], gas / BigInt(batch.length))
      results.push(out)
    }
    return { returnValue: encodeTensorBatch(results), executionGasUsed: gas }
  }

  async function estimateCall(input: PrecompileInput, caller: string | undefined): Promise<ExecResult> {
    if (input.gasLimit < INFERENCE_GAS.estimate) return outOfGas(input.gasLimit)
    const { modelId, inputs } = decodeInfer(input.data)
    const p = await plan(smOf(input), modelId, inputs, caller)
    return { returnValue: encodeEstimate(p.flops, p.gas), executionGasUsed: INFERENCE_GAS.estimate }
  }

  /**
   * The precompile as the EVM calls it. It never throws: ethereumjs awaits a precompile between a frame's
   * checkpoint and its commit/revert with no try/catch, so an exception would leave checkpoints open on the
   * chain's state (no state flushed from then on, and the datadir unreadable after a restart).
   */
  async function precompile(input: PrecompileInput): Promise<ExecResult> {
    stats.calls++
    if (input.gasLimit < INFERENCE_GAS.base) return outOfGas(input.gasLimit)
    const tracker = trackers.get(input._EVM as EVMInterface)
    const charge: Charge = { gas: INFERENCE_GAS.base }
    try {
      const caller = tracker?.currentCaller()?.toString().toLowerCase()
      const kind = tracker?.currentCallKind(self)
      if (kind === 'delegatecall' || kind === 'callcode') {
        // the code would run in the calling contract's context: with DELEGATECALL the access checks would see
        // that contract's caller (a model's owner calling it would lend it the owner's private models)
        throw new InferenceRevert(
          `the inference precompile cannot be reached with ${kind.toUpperCase()}: use CALL or STATICCALL`,
        )
      }
      if (input.data.length > INFERENCE_LIMITS.maxCalldataBytes) {
        throw new InferenceRevert(
          `calldata of ${input.data.length} bytes is over the ${INFERENCE_LIMITS.maxCalldataBytes}-byte limit`,
        )
      }
      const method = methodOf(input.data)
      if (method === 'infer') return await infer(input, tracker, caller, charge)
      if (method === 'inferBatch') return await inferBatch(input, tracker, caller, charge)
      if (method === 'estimate') return await estimateCall(input, caller)
      const sel = input.data.length >= 4 ? bytesToHex(input.data.subarray(0, 4)) : bytesToHex(input.data)
      throw new InferenceRevert(
        `unknown selector ${sel}: call infer ${SELECTORS.infer}, inferBatch ${SELECTORS.inferBatch} or estimate ${SELECTORS.estimate}`,
      )
    } catch (err) {
      return failure(err, input, tracker, charge)
    }
  }

  /**
   * A failed call as an ExecResult. Deterministic failures revert with the reason and keep the gas charged so
   * far (the planned gas once the call was priced). A failure local to this node is marked on the EVM's
   * tracker, which refuses the whole transaction when its top-level message ends (see CallTracker); the
   * revert returned here only keeps the calling frame from using anything until then.
   */
  function failure(err: unknown, input: PrecompileInput, tracker: CallTracker | undefined, charge: Charge): ExecResult {
    const revert = new EVMError(EVMError.errorMessages.REVERT)
    if (!(err instanceof InferenceRevert) && isNodeLocalFailure(err)) {
      const local = err instanceof LatticeError ? err : new InferenceInternalError(err)
      stats.localFailures++
      tracker?.markLocalFailure(local)
      return { returnValue: encodeError(local.shortMessage), executionGasUsed: input.gasLimit, exceptionError: revert }
    }
    stats.reverts++
    const reason = err instanceof LatticeError ? err.shortMessage : String(err)
    const gas = charge.gas < input.gasLimit ? charge.gas : input.gasLimit
    return { returnValue: encodeError(reason), executionGasUsed: gas, exceptionError: revert }
  }

  function outOfGas(gasLimit: bigint): ExecResult {
    stats.outOfGas++
    return {
      returnValue: new Uint8Array(),
      executionGasUsed: gasLimit,
      exceptionError: new EVMError(EVMError.errorMessages.OUT_OF_GAS),
    }
  }

  return {
    customPrecompile: { address: createAddressFromString(INFERENCE_PRECOMPILE_ADDRESS), function: precompile },
    attach(evm) {
      if (!trackers.has(evm)) trackers.set(evm, new CallTracker(evm))
    },
    takeTxRecords(evm) {
      return trackers.get(evm)?.takeTx() ?? []
    },
    async estimate(sm, modelId, inputs, caller) {
      const p = await plan(sm, modelId, inputs, caller?.toLowerCase())
      return { flops: p.flops, gas: p.gas }
    },
    stats,
  }
}

function smOf(input: PrecompileInput): StateManagerInterface {
  return (input as PrecompileInput & { stateManager: StateManagerInterface }).stateManager ?? input._EVM.stateManager
}

/** Bytes per element of a model output's dtype name (types the codec does not carry: their natural width). */
function safeElementBytes(dtype: string): number {
  if (Object.hasOwn(DType, dtype)) return elementBytes(dtypeCode(dtype))
  return dtype === 'float64' || dtype === 'uint64' ? 8 : 4
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
