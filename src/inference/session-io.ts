// What every runtime does around a run: validate and convert inputs, convert outputs to fixed-point on request.
import type { RunOpts } from './session-types.ts'
import {
  DType,
  fixedDecimals,
  fixedToFloatTensor,
  floatToFixedTensor,
  type Tensor,
  type TensorLimits,
} from './tensor.ts'
import { type ValueInfo, validateInputs } from './validate.ts'

/** Validate (unless the caller did) and turn fixed-point inputs into the float type the model declares. */
export function prepareInputs(
  tensors: readonly Tensor[],
  inputs: readonly ValueInfo[],
  limits: TensorLimits,
  runOpts: RunOpts,
): Tensor[] {
  if (!runOpts.validated) validateInputs(tensors, inputs, limits)
  const inputType = new Map(inputs.map((i) => [i.name, i.dtype]))
  return tensors.map((t) => {
    if (fixedDecimals(t.dtype) === undefined) return t
    return fixedToFloatTensor(t, inputType.get(t.name) === 'float16' ? 'float16' : 'float32')
  })
}

/** Float outputs as fixed-point with `runOpts.outputDecimals` decimals, when asked. */
export function finishOutputs(outputs: Tensor[], runOpts: RunOpts): Tensor[] {
  const d = runOpts.outputDecimals
  if (d === undefined) return outputs
  return outputs.map((t) => (t.dtype === DType.float32 || t.dtype === DType.float16 ? floatToFixedTensor(t, d) : t))
}
