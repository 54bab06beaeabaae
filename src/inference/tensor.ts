import {
  DataLengthError,
  FixedPointError,
  InvalidShapeError,
  TensorLimitError,
  TensorValueError,
  UnsupportedDtypeError,
} from './errors.ts'

/**
 * Dtype codes of the canonical tensor encoding (a uint8 in the precompile ABI). The numbers are ONNX's
 * `TensorProto.DataType` values, so a code maps straight onto a model's declared element type.
 * Codes 128..205 are fixed-point: int256 values with `code - 128` decimal places (see {@link fixedCode}).
 */
export const DType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
} as const

/** Name of a plain (non fixed-point) dtype. */
export type DTypeName = keyof typeof DType

/** First fixed-point code: `FIXED_BASE + decimals`, decimals in 0..{@link MAX_FIXED_DECIMALS}. */
export const FIXED_BASE = 128
/** Largest decimal scale: 10^77 is the largest power of ten below 2^255. */
export const MAX_FIXED_DECIMALS = 77
/** Bytes per fixed-point element: one int256, big-endian two's complement (Solidity's `abi.encodePacked(int256[])`). */
export const FIXED_ELEMENT_BYTES = 32

/** A named tensor in canonical form: dtype code, shape, row-major data (little-endian except fixed-point). */
export interface Tensor {
  name: string
  /** A {@link DType} value or a fixed-point code (128 + decimals). */
  dtype: number
  shape: number[]
  data: Uint8Array
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2 }
const NAMES: Record<number, DTypeName> = Object.fromEntries(
  Object.entries(DType).map(([k, v]) => [v, k as DTypeName]),
) as Record<number, DTypeName>

/** Fixed-point dtype code for a decimal scale. */
export function fixedCode(decimals: number): number {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_FIXED_DECIMALS) {
    throw new FixedPointError(`fixed-point scale ${decimals} is outside 0..${MAX_FIXED_DECIMALS}`)
  }
  return FIXED_BASE + decimals
}

/** Whether a code is fixed-point; returns its decimals or undefined. */
export function fixedDecimals(code: number): number | undefined {
  return code >= FIXED_BASE && code <= FIXED_BASE + MAX_FIXED_DECIMALS ? code - FIXED_BASE : undefined
}

/** Whether `code` is a dtype code the codec carries. */
export function isDtypeCode(code: number): boolean {
  return code in NAMES || fixedDecimals(code) !== undefined
}

/** Name of a dtype code: `float32`, ..., or `fixed18` for fixed-point. */
export function dtypeName(code: number): string {
  const n = NAMES[code]
  if (n) return n
  const d = fixedDecimals(code)
  if (d !== undefined) return `fixed${d}`
  throw new UnsupportedDtypeError(code)
}

/** Code of a dtype name (`float32`, `fixed18`, ...). */
export function dtypeCode(name: string, tensor?: string): number {
  if (Object.hasOwn(DType, name)) return DType[name as DTypeName]
  const m = /^fixed(\d{1,2})$/.exec(name)
  if (m && Number(m[1]) <= MAX_FIXED_DECIMALS) return FIXED_BASE + Number(m[1])
  throw new UnsupportedDtypeError(name, tensor)
}

/** Bytes per element of a dtype code. */
export function elementBytes(code: number, tensor?: string): number {
  const b = ELEMENT_BYTES[code]
  if (b !== undefined) return b
  if (fixedDecimals(code) !== undefined) return FIXED_ELEMENT_BYTES
  throw new UnsupportedDtypeError(code, tensor)
}

/** Limits checked by {@link checkTensor}; defaults in {@link DEFAULT_TENSOR_LIMITS}. */
export interface TensorLimits {
  /** Most dimensions per tensor. */
  maxRank: number
  /** Most elements per tensor. */
  maxElements: number
  /** Most data bytes per tensor. */
  maxBytes: number
  /** Most tensors per call. */
  maxTensors: number
}

/** Default limits: rank 8, 2^24 elements, 64 MiB per tensor, 64 tensors. */
export const DEFAULT_TENSOR_LIMITS: TensorLimits = {
  maxRank: 8,
  maxElements: 1 << 24,
  maxBytes: 64 << 20,
  maxTensors: 64,
}

/** Product of a shape (1 for a scalar). */
export function numElements(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/**
 * Check a tensor's own consistency: known dtype, valid shape, data length = elements × element size,
 * and the limits. Throws a {@link TensorError} naming the tensor.
 */
export function checkTensor(t: Tensor, limits: TensorLimits = DEFAULT_TENSOR_LIMITS): void {
  const size = elementBytes(t.dtype, t.name)
  if (!Array.isArray(t.shape)) throw new InvalidShapeError(t.name, t.shape, 'not an array')
  if (t.shape.length > limits.maxRank) throw new TensorLimitError(t.name, 'dimensions', t.shape.length, limits.maxRank)
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new InvalidShapeError(t.name, t.shape, `dimension ${d} is not a non-negative integer`)
  }
  const n = numElements(t.shape)
  if (n > limits.maxElements) throw new TensorLimitError(t.name, 'elements', n, limits.maxElements)
  if (n * size > limits.maxBytes) throw new TensorLimitError(t.name, 'bytes', n * size, limits.maxBytes)
  if (t.data.byteLength !== n * size)
    throw new DataLengthError(t.name, t.data.byteLength, n * size, t.shape, dtypeName(t.dtype))
}

// ---------------------------------------------------------------------------------------------
// float16

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** float32 (or any number, first rounded to float32) to IEEE binary16 bits, round-half-to-even. */
export function toFloat16Bits(v: number): number {
  f32[0] = v
  const x = u32[0]
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0)
  let e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    const half = 1 << (shift - 1)
    let r = mant >>> shift
    const rem = mant & ((1 << shift) - 1)
    if (rem > half || (rem === half && r & 1)) r++
    return sign | r
  }
  let r = mant >>> 13
  const rem = mant & 0x1fff
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) {
    r++
    if (r === 0x400) {
      r = 0
      e++
      if (e >= 0x1f) return sign | 0x7c00
    }
  }
  return sign | (e << 10) | r
}

/** IEEE binary16 bits to a number (exact). */
export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >>> 10) & 0x1f
  const mant = h & 0x3ff
  if (exp === 0) return sign * mant * 2 ** -24
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + mant / 1024) * 2 ** (exp - 15)
}

// ---------------------------------------------------------------------------------------------
// element access

/** Decode a tensor's elements: numbers for float/int/bool dtypes, bigint for int64 and fixed-point. */
export function tensorValues(t: Tensor): (number | bigint)[] {
  const n = t.data.byteLength / elementBytes(t.dtype, t.name)
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength)
  const out: (number | bigint)[] = new Array(n)
  switch (t.dtype) {
    case DType.float32:
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true)
      break
    case DType.float16:
      for (let i = 0; i < n; i++) out[i] = fromFloat16Bits(dv.getUint16(i * 2, true))
      break
    case DType.uint8:
    case DType.bool:
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i)
      break
    case DType.int8:
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i)
      break
    case DType.int16:
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true)
      break
    case DType.int32:
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true)
      break
    case DType.int64:
      for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(i * 8, true)
      break
    default:
      for (let i = 0; i < n; i++) out[i] = readInt256(t.data, i * 32)
  }
  return out
}

/**
 * Build a tensor from values. Floats are rounded to the dtype (float32: Math.fround; float16: half-to-even);
 * integers must be in range (else {@link TensorValueError}); bool takes 0/1/true/false.
 */
export function tensorFromValues(
  name: string,
  dtype: number,
  shape: number[],
  values: ArrayLike<number | bigint | boolean>,
): Tensor {
  const size = elementBytes(dtype, name)
  const data = new Uint8Array(values.length * size)
  const dv = new DataView(data.buffer)
  const fixed = fixedDecimals(dtype)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (fixed !== undefined) {
      writeInt256(data, i * 32, typeof v === 'bigint' ? v : toBigIntExact(v, name), name)
      continue
    }
    switch (dtype) {
      case DType.float32:
        dv.setFloat32(i * 4, Number(v), true)
        break
      case DType.float16:
        dv.setUint16(i * 2, toFloat16Bits(Number(v)), true)
        break
      case DType.int64:
        dv.setBigInt64(i * 8, checkIntRange(typeof v === 'bigint' ? v : toBigIntExact(v, name), 64, name), true)
        break
      case DType.bool:
        if (!(v === true || v === false || v === 0 || v === 1 || v === 0n || v === 1n)) {
          throw new TensorValueError(`tensor "${name}" value ${String(v)} is not a bool (use true/false or 0/1)`, name)
        }
        dv.setUint8(i, v === true || v === 1 || v === 1n ? 1 : 0)
        break
      default: {
        const bits = size * 8
        const signed = dtype !== DType.uint8
        const b = typeof v === 'bigint' ? v : toBigIntExact(v, name)
        const lo = signed ? -(1n << BigInt(bits - 1)) : 0n
        const hi = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n
        if (b < lo || b > hi)
          throw new TensorValueError(`tensor "${name}" value ${b} is out of range for ${dtypeName(dtype)}`, name)
        const x = Number(b)
        if (dtype === DType.uint8) dv.setUint8(i, x)
        else if (dtype === DType.int8) dv.setInt8(i, x)
        else if (dtype === DType.int16) dv.setInt16(i * 2, x, true)
        else dv.setInt32(i * 4, x, true)
      }
    }
  }
  const t: Tensor = { name, dtype, shape, data }
  return t
}

function toBigIntExact(v: number | boolean | bigint, name: string): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'boolean') return v ? 1n : 0n
  if (!Number.isInteger(v)) throw new TensorValueError(`tensor "${name}" value ${v} is not an integer`, name)
  return BigInt(v)
}

function checkIntRange(b: bigint, bits: number, name: string): bigint {
  const lim = 1n << BigInt(bits - 1)
  if (b < -lim || b >= lim)
    throw new TensorValueError(`tensor "${name}" value ${b} is out of range for int${bits}`, name)
  return b
}

const TWO_256 = 1n << 256n
const INT256_MAX = (1n << 255n) - 1n
const INT256_MIN = -(1n << 255n)

/** Read a big-endian two's complement int256 at `off`. */
export function readInt256(buf: Uint8Array, off: number): bigint {
  let x = 0n
  for (let i = 0; i < 32; i++) x = (x << 8n) | BigInt(buf[off + i])
  return x > INT256_MAX ? x - TWO_256 : x
}

/** Write a big-endian two's complement int256 at `off`. */
export function writeInt256(buf: Uint8Array, off: number, v: bigint, name = 'tensor'): void {
  if (v < INT256_MIN || v > INT256_MAX)
    throw new FixedPointError(`tensor "${name}" value ${v} does not fit in int256`, name)
  let x = v < 0n ? v + TWO_256 : v
  for (let i = 31; i >= 0; i--) {
    buf[off + i] = Number(x & 0xffn)
    x >>= 8n
  }
}

// ---------------------------------------------------------------------------------------------
// fixed point <-> float

/** Float formats a fixed-point value can convert to. */
export type FloatFormat = 'float16' | 'float32' | 'float64'
const FORMATS: Record<FloatFormat, { mant: number; minExp: number; maxExp: number }> = {
  // mant = significand bits incl. the hidden one; minExp = exponent of the smallest normal
  float16: { mant: 11, minExp: -14, maxExp: 15 },
  float32: { mant: 24, minExp: -126, maxExp: 127 },
  float64: { mant: 53, minExp: -1022, maxExp: 1023 },
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length
}

/** Round p/q (q > 0, p >= 0) to the nearest integer, ties to even. */
function divRoundHalfEven(p: bigint, q: bigint): bigint {
  const d = p / q
  const r2 = (p % q) * 2n
  if (r2 > q || (r2 === q && d & 1n)) return d + 1n
  return d
}

/**
 * Correctly rounded (round-half-to-even) conversion of the rational `num / den` to a float format.
 * Overflow gives ±Infinity.
 */
export function rationalToFloat(num: bigint, den: bigint, format: FloatFormat = 'float64'): number {
  const { mant, minExp, maxExp } = FORMATS[format]
  if (num === 0n) return 0
  const neg = num < 0n
  const p = neg ? -num : num
  // choose e so that p / (den * 2^e) lies in [2^(mant-1), 2^mant)
  let e = bitLength(p) - bitLength(den) - mant
  const scaled = (ee: number): [bigint, bigint] => (ee >= 0 ? [p, den << BigInt(ee)] : [p << BigInt(-ee), den])
  let [a, b] = scaled(e)
  if (a / b >= 1n << BigInt(mant)) e++
  else if (a / b < 1n << BigInt(mant - 1)) e--
  // subnormals: the exponent of the least significant bit cannot go below minExp - (mant - 1)
  const minLsb = minExp - (mant - 1)
  if (e < minLsb) e = minLsb
  ;[a, b] = scaled(e)
  let m = divRoundHalfEven(a, b)
  if (m === 1n << BigInt(mant)) {
    m >>= 1n
    e++
  }
  if (e + mant - 1 > maxExp) return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  const v = Number(m) * 2 ** e
  return neg ? -v : v
}

/**
 * Fixed-point int256 `value` with `decimals` places to a float: the float nearest to value / 10^decimals,
 * ties to even (exact, not via an intermediate double).
 */
export function fixedToFloat(value: bigint, decimals: number, format: FloatFormat = 'float32'): number {
  return rationalToFloat(value, 10n ** BigInt(decimals), format)
}

/** The exact rational value of a finite double as num / 2^k. */
function exactDyadic(v: number): [bigint, number] {
  if (v === 0) return [0n, 0]
  const buf = new DataView(new ArrayBuffer(8))
  buf.setFloat64(0, v)
  const hi = buf.getUint32(0)
  const lo = buf.getUint32(4)
  const exp = (hi >>> 20) & 0x7ff
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  let e: number
  if (exp === 0) e = -1074
  else {
    m |= 1n << 52n
    e = exp - 1075
  }
  const s = v < 0 ? -m : m
  return e >= 0 ? [s << BigInt(e), 0] : [s, -e]
}

/**
 * Float to fixed-point: the exact value × 10^decimals rounded to an integer, ties to even.
 * NaN and ±Infinity have no fixed-point form ({@link FixedPointError}).
 */
export function floatToFixed(v: number, decimals: number, name = 'tensor'): bigint {
  if (!Number.isFinite(v)) throw new FixedPointError(`tensor "${name}" value ${v} has no fixed-point form`, name)
  const [num, k] = exactDyadic(v)
  const scaled = num * 10n ** BigInt(decimals)
  const den = 1n << BigInt(k)
  const neg = scaled < 0n
  const r = divRoundHalfEven(neg ? -scaled : scaled, den)
  const out = neg ? -r : r
  if (out < INT256_MIN || out > INT256_MAX)
    throw new FixedPointError(`tensor "${name}" value ${v} does not fit in int256`, name)
  return out
}

/**
 * Convert a fixed-point tensor to a float tensor of `to` (float32 or float16), element by element with
 * {@link fixedToFloat}. Non-fixed tensors are returned unchanged.
 */
export function fixedToFloatTensor(t: Tensor, to: 'float32' | 'float16'): Tensor {
  const d = fixedDecimals(t.dtype)
  if (d === undefined) return t
  const vals = tensorValues(t) as bigint[]
  const floats = vals.map((v) => fixedToFloat(v, d, to))
  return tensorFromValues(t.name, DType[to], t.shape, floats)
}

/** Convert a float32/float16 tensor to fixed-point with `decimals` places (round half to even). */
export function floatToFixedTensor(t: Tensor, decimals: number): Tensor {
  if (t.dtype !== DType.float32 && t.dtype !== DType.float16) {
    throw new FixedPointError(
      `tensor "${t.name}" has dtype ${dtypeName(t.dtype)}; only float tensors convert to fixed-point`,
      t.name,
    )
  }
  const vals = tensorValues(t) as number[]
  return tensorFromValues(
    t.name,
    fixedCode(decimals),
    t.shape,
    vals.map((v) => floatToFixed(v, decimals, t.name)),
  )
}

/** Shortest decimal string that parses back (through Math.fround) to the same float32. */
export function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity'
  if (Object.is(v, -0)) return '-0'
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p)
    if (Math.fround(Number(s)) === v) return String(Number(s))
  }
  return String(v)
}
