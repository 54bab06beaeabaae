import { LatticeError } from '../errors.ts'

/** A tensor does not match its declared dtype/shape/data, or the model's declared input. */
export class TensorError extends LatticeError {
  /** The tensor (input) name the error is about, when there is one. */
  readonly tensor?: string
  constructor(code: string, message: string, opts: { tensor?: string; details?: string; cause?: unknown } = {}) {
    super(code, message, opts)
    this.tensor = opts.tensor
  }
}

/** Input name the model does not declare. */
export class UnknownInputError extends TensorError {
  constructor(name: string, known: readonly string[]) {
    super('TENSOR_UNKNOWN_INPUT', `input "${name}" is not an input of the model (inputs: ${known.join(', ')})`, {
      tensor: name,
    })
  }
}

/** A model input with no tensor given. */
export class MissingInputError extends TensorError {
  constructor(name: string) {
    super('TENSOR_MISSING_INPUT', `input "${name}" is missing`, { tensor: name })
  }
}

/** Same tensor name given twice. */
export class DuplicateInputError extends TensorError {
  constructor(name: string) {
    super('TENSOR_DUPLICATE_INPUT', `input "${name}" is given more than once`, { tensor: name })
  }
}

/** Tensor dtype differs from what the model declares. */
export class DtypeMismatchError extends TensorError {
  constructor(name: string, got: string, want: string) {
    super('TENSOR_DTYPE_MISMATCH', `input "${name}" has dtype ${got} but the model needs ${want}`, { tensor: name })
  }
}

/** Tensor rank differs from the model's declared rank. */
export class RankMismatchError extends TensorError {
  constructor(name: string, shape: readonly number[], want: readonly (number | string)[]) {
    super(
      'TENSOR_RANK_MISMATCH',
      `input "${name}" has rank ${shape.length} (shape ${fmtShape(shape)}) but the model needs rank ${want.length} (shape ${fmtShape(want)})`,
      { tensor: name },
    )
  }
}

/** A static dimension differs from the model's declaration. */
export class ShapeMismatchError extends TensorError {
  constructor(name: string, shape: readonly number[], want: readonly (number | string)[]) {
    super(
      'TENSOR_SHAPE_MISMATCH',
      `input "${name}" has shape ${fmtShape(shape)} but the model needs ${fmtShape(want)}`,
      {
        tensor: name,
      },
    )
  }
}

/** Two inputs give different sizes to the same named dynamic dimension. */
export class SymbolicDimMismatchError extends TensorError {
  constructor(name: string, shape: readonly number[], dim: string, size: number, other: string) {
    super(
      'TENSOR_SYMBOLIC_DIM_MISMATCH',
      `input "${name}" has shape ${fmtShape(shape)} but dimension "${dim}" is ${size} in input "${other}"`,
      { tensor: name },
    )
  }
}

/** Data byte length does not equal product(shape) × element size. */
export class DataLengthError extends TensorError {
  constructor(name: string, got: number, want: number, shape: readonly number[], dtype: string) {
    super(
      'TENSOR_DATA_LENGTH',
      `tensor "${name}" has ${got} bytes of data but shape ${fmtShape(shape)} of ${dtype} needs ${want}`,
      { tensor: name },
    )
  }
}

/** Tensor exceeds a configured size limit (elements, bytes, rank, or count). */
export class TensorLimitError extends TensorError {
  constructor(name: string, what: string, got: number, limit: number) {
    super('TENSOR_LIMIT', `tensor "${name}" has ${got} ${what}, over the limit of ${limit}`, { tensor: name })
  }
}

/** Unknown dtype code or name, or one the codec does not carry. */
export class UnsupportedDtypeError extends TensorError {
  constructor(dtype: string | number, name?: string) {
    super(
      'TENSOR_UNSUPPORTED_DTYPE',
      `${name === undefined ? 'tensor' : `tensor "${name}"`} has unsupported dtype ${JSON.stringify(dtype)}`,
      { tensor: name },
    )
  }
}

/** Malformed shape (negative, non-integer, or too large dims). */
export class InvalidShapeError extends TensorError {
  constructor(name: string, shape: unknown, why: string) {
    super('TENSOR_INVALID_SHAPE', `tensor "${name}" has invalid shape ${JSON.stringify(shape)}: ${why}`, {
      tensor: name,
    })
  }
}

/** Malformed JSON tensor document. */
export class TensorJsonError extends TensorError {
  constructor(message: string, name?: string) {
    super('TENSOR_JSON', message, { tensor: name })
  }
}

/** An element value that the tensor's dtype cannot hold (out of range, not an integer, not a bool). */
export class TensorValueError extends TensorError {
  constructor(message: string, name?: string) {
    super('TENSOR_VALUE', message, { tensor: name })
  }
}

/** A value with no fixed-point form (NaN, infinite, beyond int256) or a scale outside 0..77. */
export class FixedPointError extends TensorError {
  constructor(message: string, name?: string) {
    super('TENSOR_FIXED_POINT', message, { tensor: name })
  }
}

/** An execution provider was requested that this machine cannot run. */
export class ProviderUnavailableError extends LatticeError {
  readonly provider: string
  constructor(provider: string, why: string) {
    super(
      'INFERENCE_PROVIDER_UNAVAILABLE',
      `execution provider "${provider}" is not available on this machine: ${why}. Run \`lattice devices\` to list the available ones, or use --device cpu.`,
    )
    this.provider = provider
  }
}

/** Unknown execution provider name. */
export class UnknownProviderError extends LatticeError {
  constructor(provider: string, known: readonly string[]) {
    super('INFERENCE_UNKNOWN_PROVIDER', `unknown execution provider "${provider}" (known: ${known.join(', ')})`)
  }
}

/** A genesis file names an inference profile this build does not know. */
export class UnknownProfileError extends LatticeError {
  constructor(id: string, known: readonly string[]) {
    super(
      'INFERENCE_UNKNOWN_PROFILE',
      `unknown inference profile "${id}" (this build knows: ${known.join(', ')}); upgrade lattice or fix the genesis file`,
    )
  }
}

/** ONNX Runtime refused to load the model bytes. */
export class ModelLoadError extends LatticeError {
  constructor(why: string, opts: { cause?: unknown } = {}) {
    super('INFERENCE_MODEL_LOAD', `the model could not be loaded: ${why}`, opts)
  }
}

/** ONNX Runtime failed during a run. */
export class InferenceRunError extends LatticeError {
  constructor(why: string, opts: { cause?: unknown } = {}) {
    super('INFERENCE_RUN', `inference failed: ${why}`, opts)
  }
}

/** The session was disposed (e.g. evicted) before the call. */
export class SessionDisposedError extends LatticeError {
  constructor() {
    super('INFERENCE_SESSION_DISPOSED', 'the inference session was disposed')
  }
}

/** Model bytes are not a decodable ONNX ModelProto. */
export class ModelDecodeError extends LatticeError {
  constructor(why: string, opts: { cause?: unknown } = {}) {
    super('FLOPS_MODEL_DECODE', `the model is not a valid ONNX file: ${why}`, opts)
  }
}

/** The FLOP counter cannot count or shape a node. Names the op and the node. */
export class UnsupportedOpError extends LatticeError {
  readonly op: string
  readonly node: string
  constructor(op: string, node: string, why: string) {
    super('FLOPS_UNSUPPORTED_OP', `cannot count op ${op} (node "${node}"): ${why}`)
    this.op = op
    this.node = node
  }
}

/** A graph input has a dynamic dimension and no concrete shape was given. */
export class UnshapedInputError extends LatticeError {
  readonly input: string
  constructor(input: string, shape: readonly (number | string)[]) {
    super(
      'FLOPS_UNSHAPED_INPUT',
      `input "${input}" has dynamic shape ${fmtShape(shape)}; pass its concrete shape (e.g. --input ${input}=${shape.map((d) => (typeof d === 'number' ? d : 1)).join('x')})`,
    )
    this.input = input
  }
}

/** Format a shape as `[1,3,224,224]`, dynamic dims quoted by name. */
export function fmtShape(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : d === '' ? '?' : d)).join(',')}]`
}

/** A `name=1x3x224x224` shape argument that does not parse. */
export class ShapeArgError extends LatticeError {
  constructor(arg: string, why: string) {
    super('FLOPS_SHAPE_ARG', `--input "${arg}": ${why}; write name=DIMxDIM..., e.g. input=1x3x224x224`)
  }
}

/** A model that cannot be deployed: it does not decode, or it uses ops whose results are random. */
export class ModelCheckError extends LatticeError {
  constructor(message: string) {
    super('MODEL_CHECK', message)
  }
}

/** The WebAssembly runtime on disk is not the one the profile pins (package version or file hash). */
export class RuntimeMismatchError extends LatticeError {
  constructor(profile: string, why: string) {
    super(
      'INFERENCE_RUNTIME_MISMATCH',
      `inference profile ${profile} cannot run on this install: ${why}. Reinstall with \`npm ci\` (package-lock pins it) or upgrade lattice to a build that defines a profile for this runtime.`,
    )
  }
}

/** The inference worker pool cannot take or finish a job (queue full, worker exited). */
export class WorkerPoolError extends LatticeError {
  constructor(why: string, opts: { cause?: unknown } = {}) {
    super('INFERENCE_WORKER', `inference worker: ${why}`, opts)
  }
}

/** A session feature that only the native runtime has (e.g. ONNX Runtime profiling). */
export class RuntimeFeatureError extends LatticeError {
  constructor(feature: string, runtime: string) {
    super('INFERENCE_RUNTIME_FEATURE', `${feature} is not available in the ${runtime} runtime`)
  }
}

/** A tolerance parameter out of its ABI range, or an output set over the per-call tensor limit (tolerance.ts). */
export class ToleranceParamError extends LatticeError {
  constructor(message: string) {
    super('TOLERANCE_PARAM', message)
  }
}
