// The precompile's `withinTolerance`: decode, price, compare (src/inference/tolerance.ts). A view with no model,
// no state and no record: the market calls it in a challenge after `infer`, a challenger through eth_call.
import type { ExecResult, PrecompileInput } from '@ethereumjs/evm'
import { LatticeError } from '../errors.ts'
import type { TensorLimits } from '../inference/tensor.ts'
import { compareOutputs, planComparison } from '../inference/tolerance.ts'
import { decodeWithinTolerance, encodeToleranceResult } from './abi.ts'
import { InferenceRevert } from './errors.ts'
import { type GasSchedule, toleranceGas } from './params.ts'
import type { Charge } from './plan.ts'

/** What a `withinTolerance` call needs from the precompile that dispatches it. */
export interface WithinToleranceContext {
  limits: TensorLimits
  /** A schedule with `perToleranceElement` (the dispatcher does not route the selector otherwise). */
  schedule: GasSchedule
  /** The precompile's out-of-gas result (it counts them). */
  outOfGas(gasLimit: bigint): ExecResult
}

/**
 * Run one call whose base the dispatcher has charged in `charge`. Malformed calldata or tensors throw an
 * {@link InferenceRevert} (the dispatcher reverts, keeping the base); gas short of base + elements halts
 * out-of-gas before any element is read. The call's size is bounded by the calldata limit the dispatcher checked.
 */
export function withinToleranceCall(ctx: WithinToleranceContext, input: PrecompileInput, charge: Charge): ExecResult {
  const args = decodeWithinTolerance(input.data)
  let plan: ReturnType<typeof planComparison>
  try {
    plan = planComparison(args.claimed, args.expected, ctx.limits)
  } catch (err) {
    if (err instanceof LatticeError) throw new InferenceRevert(`withinTolerance: ${err.shortMessage}`)
    throw err
  }
  const gas = toleranceGas(plan.elements, plan.bytes, ctx.schedule)
  if (gas === undefined) throw new InferenceRevert(`withinTolerance has no price under ${ctx.schedule.id}`)
  if (gas > input.gasLimit) return ctx.outOfGas(input.gasLimit)
  charge.gas = gas
  const r = compareOutputs(args.claimed, args.expected, args, plan)
  return { returnValue: encodeToleranceResult(r.ok, r.worstUlp, r.firstBad), executionGasUsed: gas }
}
