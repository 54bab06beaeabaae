import { TensorJsonError } from './errors.ts'
import {
  DType,
  dtypeCode,
  dtypeName,
  fixedDecimals,
  formatFloat32,
  fromFloat16Bits,
  type Tensor,
  tensorFromValues,
  tensorValues,
  toFloat16Bits,
} from './tensor.ts'
import type { ValueInfo } from './validate.ts'

/**
 * Parse the JSON tensor document shared by every command:
 * `{"inputs": {"x": {"dtype": "float32", "shape": [1, 4], "data": [...]}}}`, or a bare nested array per input
 * (`{"inputs": {"x": [[0.1, 0.2]]}}`) whose dtype comes from the model's input `x` and shape from the nesting.
 * `key` is `inputs` (default) or `outputs`. Errors name the tensor.
 */
export function parseTensorJson(doc: unknown, opts: { model?: readonly ValueInfo[]; key?: string } = {}): Tensor[] {
  const key = opts.key ?? 'inputs'
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new TensorJsonError(
      `expected a JSON object like {"${key}": {"x": {"dtype": "float32", "shape": [1], "data": [0]}}}`,
    )
  }
  const body = (doc as Record<string, unknown>)[key]
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TensorJsonError(`expected an object under "${key}", mapping tensor names to tensors`)
  }
  const out: Tensor[] = []
  for (const [name, v] of Object.entries(body as Record<string, unknown>)) {
    out.push(parseOne(name, v, opts.model))
  }
  return out
}

function parseOne(name: string, v: unknown, model: readonly ValueInfo[] | undefined): Tensor {
  if (Array.isArray(v) || typeof v === 'number') {
    const spec = model?.find((i) => i.name === name)
    if (!spec) {
      throw new TensorJsonError(
        `tensor "${name}" is a bare array but its dtype is unknown (the model has no input "${name}"); write {"dtype": ..., "shape": ..., "data": ...}`,
        name,
      )
    }
    const shape: number[] = []
    const flat: unknown[] = []
    nested(name, v, 0, shape, flat)
    return build(name, spec.dtype, shape, flat)
  }
  if (typeof v !== 'object' || v === null) {
    throw new TensorJsonError(`tensor "${name}" must be an object {"dtype", "shape", "data"} or a nested array`, name)
  }
  const o = v as Record<string, unknown>
  if (typeof o.dtype !== 'string')
    throw new TensorJsonError(`tensor "${name}" needs a string "dtype" (e.g. "float32")`, name)
  if (!Array.isArray(o.shape)) throw new TensorJsonError(`tensor "${name}" needs a "shape" array (e.g. [1, 4])`, name)
  if (!Array.isArray(o.data)) throw new TensorJsonError(`tensor "${name}" needs a "data" array`, name)
  for (const d of o.shape) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) {
      throw new TensorJsonError(
        `tensor "${name}" has invalid shape ${JSON.stringify(o.shape)}: dims must be non-negative integers`,
        name,
      )
    }
  }
  const flat = (o.data as unknown[]).flat(Number.POSITIVE_INFINITY)
  return build(name, o.dtype, o.shape as number[], flat)
}

function nested(name: string, v: unknown, depth: number, shape: number[], flat: unknown[]): void {
  if (!Array.isArray(v)) {
    if (depth !== shape.length && shape.length > 0)
      throw new TensorJsonError(`tensor "${name}" is a ragged array`, name)
    flat.push(v)
    return
  }
  if (depth === shape.length) shape.push(v.length)
  else if (shape[depth] !== v.length) throw new TensorJsonError(`tensor "${name}" is a ragged array`, name)
  for (const x of v) nested(name, x, depth + 1, shape, flat)
  if (v.length === 0 && depth + 1 < shape.length) throw new TensorJsonError(`tensor "${name}" is a ragged array`, name)
}

function build(name: string, dtypeStr: string, shape: number[], flat: unknown[]): Tensor {
  const code = dtypeCode(dtypeStr, name)
  let n = 1
  for (const d of shape) n *= d
  if (flat.length !== n) {
    throw new TensorJsonError(
      `tensor "${name}" has ${flat.length} values but shape ${JSON.stringify(shape)} needs ${n}`,
      name,
    )
  }
  const vals = flat.map((x, i) => value(name, code, x, i))
  return tensorFromValues(name, code, shape, vals)
}

const SPECIAL: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
}

function value(name: string, code: number, x: unknown, i: number): number | bigint | boolean {
  const bad = (): never => {
    throw new TensorJsonError(
      `tensor "${name}" value #${i} ${JSON.stringify(x)} is not a valid ${dtypeName(code)}`,
      name,
    )
  }
  if (code === DType.float32 || code === DType.float16) {
    if (typeof x === 'number') return x
    if (typeof x === 'string' && x in SPECIAL) return SPECIAL[x]
    return bad()
  }
  if (code === DType.bool) {
    if (typeof x === 'boolean' || x === 0 || x === 1) return x
    return bad()
  }
  if (typeof x === 'number') return Number.isSafeInteger(x) ? BigInt(x) : bad()
  if (typeof x === 'string' && /^-?\d+$/.test(x)) return BigInt(x)
  return bad()
}

/** Shortest decimal that converts back to the same float16 bits. */
export function formatFloat16(v: number): string {
  if (!Number.isFinite(v) || Object.is(v, -0)) return formatFloat32(v)
  const bits = toFloat16Bits(v)
  for (let p = 1; p <= 6; p++) {
    const s = v.toPrecision(p)
    if (toFloat16Bits(Number(s)) === bits) return String(Number(s))
  }
  return String(fromFloat16Bits(bits))
}

function jsonValue(code: number, v: number | bigint): string {
  if (code === DType.float32 || code === DType.float16) {
    const s = code === DType.float32 ? formatFloat32(v as number) : formatFloat16(v as number)
    return s in SPECIAL ? `"${s}"` : s
  }
  if (code === DType.bool) return v ? 'true' : 'false'
  if (typeof v === 'bigint') {
    if (
      fixedDecimals(code) === undefined &&
      v <= BigInt(Number.MAX_SAFE_INTEGER) &&
      v >= BigInt(Number.MIN_SAFE_INTEGER)
    ) {
      return v.toString()
    }
    return `"${v.toString()}"`
  }
  return String(v)
}

/**
 * Format tensors as `{"<key>": {"y": {"dtype", "shape", "data"}}}` text. float32 values print as the shortest
 * decimal that parses back (through Math.fround) to the same float; float16 likewise; int64 outside the
 * safe-integer range and fixed-point values print as decimal strings.
 */
export function formatTensorJson(tensors: readonly Tensor[], key = 'outputs'): string {
  const parts = tensors.map((t) => {
    const data = tensorValues(t)
      .map((v) => jsonValue(t.dtype, v))
      .join(', ')
    return `    ${JSON.stringify(t.name)}: {"dtype": ${JSON.stringify(dtypeName(t.dtype))}, "shape": ${JSON.stringify(t.shape)}, "data": [${data}]}`
  })
  return `{\n  ${JSON.stringify(key)}: {\n${parts.join(',\n')}\n  }\n}\n`
}
