import type { StateManagerInterface } from '@ethereumjs/common'
import type { EVMInterface, ExecResult, PrecompileInput } from '@ethereumjs/evm'
import { EVMError } from '@ethereumjs/evm'
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { LatticeError } from '../errors.ts'
import type { SessionCache } from '../inference/cache.ts'
import type { Tensor, TensorLimits } from '../inference/tensor.ts'
import { DEFAULT_TENSOR_LIMITS } from '../inference/tensor.ts'
import { decodeInfer, encodeError, encodeEstimate, encodeTensors, methodOf, SELECTORS } from './abi.ts'
import { INFERENCE_PRECOMPILE_ADDRESS } from './addresses.ts'
import { inferBatch } from './batch.ts'
import { InferenceInternalError, InferenceRevert, isNodeLocalFailure } from './errors.ts'
import {
  CURRENT_GAS_SCHEDULE,
  type GasSchedule,
  INFERENCE_GAS,
  INFERENCE_LIMITS,
  INLINE_RUN_MAX_GAS,
} from './params.ts'
import type { Charge, ModelSource } from './plan.ts'
import { createPlanner, smOf } from './plan.ts'
import type { InferenceRecord } from './records.ts'
import { CallTracker, ownedRecord } from './records.ts'
import type { RegistryEntry } from './registry.ts'
import { perturbForTest } from './test-perturb.ts'
import { withinToleranceCall } from './within-tolerance.ts'

export type { ModelSource } from './plan.ts'

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

/** Create the inference precompile at 0x…0A11. */
export function createInferencePrecompile(opts: InferencePrecompileOpts): InferencePrecompile {
  const limits = opts.limits ?? DEFAULT_TENSOR_LIMITS
  const schedule = opts.gasSchedule ?? CURRENT_GAS_SCHEDULE
  const trackers = new WeakMap<EVMInterface, CallTracker>()
  const stats: InferenceStats = { calls: 0, runs: 0, reverts: 0, outOfGas: 0, localFailures: 0 }
  const self = INFERENCE_PRECOMPILE_ADDRESS.toLowerCase()
  const planner = createPlanner({ models: opts.models, limits, schedule })
  const { modelBytes, plan } = planner

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
    // the chain's keccak (native where available): inputs can be hundreds of kilobytes; encoded and hashed only
    // when a mined transaction's records are stored (records.ts), never for eth_call. The tensors are this call's
    // own (decodeInfer copies out of the calldata, outputs are fresh), so they can be kept unencoded until then
    tracker.record(ownedRecord(modelId, inputs, outputs, flops, gas, input.common.customCrypto.keccak256 ?? keccak256))
  }

  async function run(
    entry: RegistryEntry,
    inputs: Tensor[],
    outputDecimals: number | undefined,
    gas: bigint,
  ): Promise<Tensor[]> {
    stats.runs++
    const outputs = await opts.sessions.run(entry.digest, () => modelBytes(entry), inputs, {
      outputDecimals,
      validated: true,
      inline: gas <= INLINE_RUN_MAX_GAS,
    })
    // test-only (LATTICE_TEST_PERTURB_INFERENCE): a node that disagrees about one model's outputs
    return perturbForTest(entry.modelId, outputs)
  }

  async function infer(
    input: PrecompileInput,
    tracker: CallTracker | undefined,
    caller: string | undefined,
    charge: Charge,
  ): Promise<ExecResult> {
    const { modelId, inputs } = decodeInfer(input.data)
    const p = await plan(smOf(input), modelId, inputs, caller, { charge, gasLimit: input.gasLimit })
    if (p.gas > input.gasLimit) return outOfGas(input.gasLimit)
    // from here a deterministic failure (runtime error, NaN in a fixed-point output) costs the planned gas
    charge.gas = p.gas
    const outputs = await run(p.entry, inputs, p.outputDecimals, p.gas)
    record(input, tracker, modelId, inputs, outputs, p.flops, p.gas)
    return { returnValue: encodeTensors(outputs), executionGasUsed: p.gas }
  }

  async function estimateCall(input: PrecompileInput, caller: string | undefined, charge: Charge): Promise<ExecResult> {
    if (input.gasLimit < INFERENCE_GAS.estimate) return outOfGas(input.gasLimit)
    // the estimate's price plus the counting it does
    charge.gas = INFERENCE_GAS.estimate
    const { modelId, inputs } = decodeInfer(input.data)
    const p = await plan(smOf(input), modelId, inputs, caller, { charge, gasLimit: input.gasLimit })
    return { returnValue: encodeEstimate(p.flops, p.gas), executionGasUsed: charge.gas }
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
      if (method === 'inferBatch') return await inferBatch(batchContext, input, tracker, caller, charge)
      if (method === 'estimate') return await estimateCall(input, caller, charge)
      // a profile with no price for it (consensus-v1) predates the method: its selector stays unknown there
      if (method === 'withinTolerance' && schedule.perToleranceElement !== undefined) {
        return withinToleranceCall({ limits, schedule, outOfGas }, input, charge)
      }
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

  const batchContext = { planner, schedule, run, record, outOfGas }

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
