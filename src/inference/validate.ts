import {
  DtypeMismatchError,
  DuplicateInputError,
  MissingInputError,
  RankMismatchError,
  ShapeMismatchError,
  SymbolicDimMismatchError,
  TensorLimitError,
  UnknownInputError,
} from './errors.ts'
import {
  checkTensor,
  DEFAULT_TENSOR_LIMITS,
  dtypeName,
  fixedDecimals,
  type Tensor,
  type TensorLimits,
} from './tensor.ts'

/** A model input or output as the model declares it. `dtype` is ONNX Runtime's name (`float32`, `float64`, `string`, ...). */
export interface ValueInfo {
  name: string
  dtype: string
  /** Static dims are numbers; dynamic dims are their symbolic name (or '' when unnamed). */
  shape: (number | string)[]
}

/**
 * Check tensors against the model's declared inputs: each tensor's own consistency and the limits, then
 * unknown / duplicate / missing names, dtype, rank and every static dimension. A fixed-point tensor is
 * accepted for a float32 or float16 input. Throws a TensorError naming the input.
 */
export function validateInputs(
  tensors: readonly Tensor[],
  inputs: readonly ValueInfo[],
  limits: TensorLimits = DEFAULT_TENSOR_LIMITS,
): void {
  if (tensors.length > limits.maxTensors) {
    throw new TensorLimitError(
      tensors[limits.maxTensors]?.name ?? '',
      'tensors in the call',
      tensors.length,
      limits.maxTensors,
    )
  }
  const byName = new Map<string, ValueInfo>()
  for (const i of inputs) byName.set(i.name, i)
  const seen = new Set<string>()
  // named dynamic dims ("N", "batch") must agree across inputs
  const symbols = new Map<string, { size: number; input: string }>()
  for (const t of tensors) {
    checkTensor(t, limits)
    const spec = byName.get(t.name)
    if (!spec)
      throw new UnknownInputError(
        t.name,
        inputs.map((i) => i.name),
      )
    if (seen.has(t.name)) throw new DuplicateInputError(t.name)
    seen.add(t.name)
    const got = dtypeName(t.dtype)
    const fixedOk = fixedDecimals(t.dtype) !== undefined && (spec.dtype === 'float32' || spec.dtype === 'float16')
    if (got !== spec.dtype && !fixedOk) throw new DtypeMismatchError(t.name, got, spec.dtype)
    if (t.shape.length !== spec.shape.length) throw new RankMismatchError(t.name, t.shape, spec.shape)
    for (let d = 0; d < t.shape.length; d++) {
      const want = spec.shape[d]
      if (typeof want === 'number') {
        if (want !== t.shape[d]) throw new ShapeMismatchError(t.name, t.shape, spec.shape)
      } else if (want !== '') {
        const prev = symbols.get(want)
        if (prev && prev.size !== t.shape[d])
          throw new SymbolicDimMismatchError(t.name, t.shape, want, prev.size, prev.input)
        if (!prev) symbols.set(want, { size: t.shape[d], input: t.name })
      }
    }
  }
  for (const i of inputs) if (!seen.has(i.name)) throw new MissingInputError(i.name)
}
