// Whether one set of output tensors is within a tolerance of another (contracts/IInferenceMarket.sol's
// Tolerance; docs/accelerated.md). The verdict decides who is slashed in a challenge, so it must be the same
// bit on every CPU: element comparisons work on the raw bits as integers, and the absolute difference is exact
// (float-exact.ts for float32, integers for float16 and fixed-point).
import { ToleranceParamError } from './errors.ts'
import { type AbsBound, absBound, absWithinBound } from './float-exact.ts'
import type { Tensor, TensorLimits } from './tensor.ts'
import { checkTensor, DEFAULT_TENSOR_LIMITS, DType, elementBytes, fixedDecimals, numElements } from './tensor.ts'

/** The tolerance of a model's outputs (Solidity's `Tolerance`, without `set`). */
export interface Tolerance {
  /** Float elements within this many units in the last place pass (uint32); fixed-point: integer steps. */
  maxUlp: number
  /** Float elements with |a − b| ≤ maxAbsE9 · 1e-9 pass (uint64); fixed-point: the same in its real value. */
  maxAbsE9: bigint | number
  /** Compare only the argmax along each output's last axis (first index on ties). */
  sameArgmax: boolean
}

/** The verdict, as the precompile's `withinTolerance` returns it. */
export interface ToleranceResult {
  /** Every element (or every row's argmax) passed. */
  ok: boolean
  /** Largest ulp (fixed-point: step) distance seen, saturating at {@link MAX_REPORTED_ULP}; 0 with sameArgmax. */
  worstUlp: number
  /** Flat index over all outputs of the first failing element (or row); {@link NO_BAD_ELEMENT} when ok. */
  firstBad: bigint
}

/** `type(uint256).max`: firstBad when nothing failed. */
export const NO_BAD_ELEMENT = 2n ** 256n - 1n
/** worstUlp saturates here (2^32 − 1); also what a NaN or infinity mismatch counts as. */
export const MAX_REPORTED_ULP = 0xffffffff
const MAX_UINT64 = 2n ** 64n - 1n

/** A validated comparison: whether the two sets have the same structure, and how many elements it compares. */
export interface ComparisonPlan {
  /** Same count, and per output the same name, dtype and shape. */
  sameStructure: boolean
  /** Elements compared (those of `expected`), 0 when the structures differ: what the precompile's gas counts. */
  elements: number
  /** Data bytes of both sets together (the precompile charges their words as decoded). */
  bytes: number
}

/** Check the tolerance's ranges (uint32, uint64); throws {@link ToleranceParamError}. */
export function checkTolerance(tol: Tolerance): void {
  if (!Number.isInteger(tol.maxUlp) || tol.maxUlp < 0 || tol.maxUlp > MAX_REPORTED_ULP) {
    throw new ToleranceParamError(`maxUlp ${tol.maxUlp} is not a uint32`)
  }
  const abs = tol.maxAbsE9
  if (typeof abs === 'number' ? !Number.isSafeInteger(abs) || abs < 0 : abs < 0n || abs > MAX_UINT64) {
    throw new ToleranceParamError(`maxAbsE9 ${abs} is not a uint64`)
  }
}

/**
 * Validate both output sets (every tensor consistent and within `limits`; throws a TensorError naming the bad
 * one) and compare their structure. Cheap: no element is read.
 */
export function planComparison(
  claimed: readonly Tensor[],
  expected: readonly Tensor[],
  limits: TensorLimits = DEFAULT_TENSOR_LIMITS,
): ComparisonPlan {
  for (const [which, set] of [
    ['claimed', claimed],
    ['expected', expected],
  ] as const) {
    if (set.length > limits.maxTensors) {
      throw new ToleranceParamError(`${which} has ${set.length} tensors, the limit is ${limits.maxTensors}`)
    }
    for (const t of set) checkTensor(t, limits)
  }
  const same =
    claimed.length === expected.length &&
    claimed.every((c, i) => {
      const e = expected[i]
      return (
        c.name === e.name &&
        c.dtype === e.dtype &&
        c.shape.length === e.shape.length &&
        c.shape.every((d, j) => d === e.shape[j])
      )
    })
  const bytes = [...claimed, ...expected].reduce((s, t) => s + t.data.byteLength, 0)
  return {
    sameStructure: same,
    elements: same ? expected.reduce((s, t) => s + numElements(t.shape), 0) : 0,
    bytes,
  }
}

/**
 * Whether `claimed` is within `tol` of `expected` (the consensus runtime's outputs for the same inputs). A count,
 * name, dtype or shape mismatch is `ok: false` with `firstBad` 0; a malformed tensor or tolerance throws.
 */
export function withinTolerance(
  claimed: readonly Tensor[],
  expected: readonly Tensor[],
  tol: Tolerance,
  limits: TensorLimits = DEFAULT_TENSOR_LIMITS,
): ToleranceResult {
  checkTolerance(tol)
  const plan = planComparison(claimed, expected, limits)
  return compareOutputs(claimed, expected, tol, plan)
}

/** The comparison itself, after {@link checkTolerance} and {@link planComparison} (the precompile charges between). */
export function compareOutputs(
  claimed: readonly Tensor[],
  expected: readonly Tensor[],
  tol: Tolerance,
  plan: ComparisonPlan,
): ToleranceResult {
  if (!plan.sameStructure) return { ok: false, worstUlp: 0, firstBad: 0n }
  const v = new Verdict(tol)
  let offset = 0
  for (let i = 0; i < expected.length; i++) {
    const c = claimed[i]
    const e = expected[i]
    if (tol.sameArgmax) compareArgmax(c, e, offset, v)
    else compareElements(c, e, offset, v)
    offset += numElements(e.shape)
  }
  return { ok: v.firstBad < 0, worstUlp: v.worst, firstBad: v.firstBad < 0 ? NO_BAD_ELEMENT : BigInt(v.firstBad) }
}

/** Running state of one comparison: the tolerance in the forms the loops use, the worst distance, the first failure. */
class Verdict {
  readonly maxUlp: number
  readonly maxAbs: bigint
  /** maxAbsE9 / 1e9 rounded to doubles, for float32's exact abs test (float-exact.ts). */
  readonly bound: AbsBound
  /** ⌊maxAbsE9 · 2^24 / 1e9⌋, capped at 2^53 (past any float16 difference): float16's whole abs test. */
  readonly abs16: number
  worst = 0
  firstBad = -1

  constructor(tol: Tolerance) {
    this.maxUlp = tol.maxUlp
    this.maxAbs = BigInt(tol.maxAbsE9)
    this.bound = absBound(this.maxAbs)
    const t16 = (this.maxAbs << 24n) / E9
    this.abs16 = t16 > 2n ** 53n ? 2 ** 53 : Number(t16)
  }

  seen(ulp: number): void {
    if (ulp > this.worst) this.worst = ulp > MAX_REPORTED_ULP ? MAX_REPORTED_ULP : ulp
  }

  fail(index: number): void {
    if (this.firstBad < 0) this.firstBad = index
  }
}

const view = (t: Tensor) => new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength)

const E9 = 1_000_000_000n

/**
 * IEEE bits to an integer whose order is the values' order, with −0 and +0 both 0: the ulp distance of two
 * non-NaN values is the difference of their images.
 */
const ordered = (bits: number, signBit: number): number => (bits >= signBit ? -(bits - signBit) : bits)

const F32 = new Float32Array(1)
const F32_BITS = new Uint32Array(F32.buffer)
function f32Value(bits: number): number {
  F32_BITS[0] = bits
  return F32[0]
}

/** 2^(e − 1) for a float16 biased exponent e in 1..30. */
const POW2_16 = Float64Array.from({ length: 31 }, (_, e) => 2 ** (e - 1))

/** A finite float16 times 2^24: an integer of magnitude below 2^41 (the smallest subnormal is 2^-24). */
function f16Scaled(bits: number): number {
  const exp = (bits >>> 10) & 0x1f
  const mant = bits & 0x3ff
  const m = exp === 0 ? mant : (1024 + mant) * POW2_16[exp]
  return bits & 0x8000 ? -m : m
}

// One loop per width, each reading its DataView directly, so that every read and call in a loop stays monomorphic
// (the JIT inlines them; a shared loop through a per-format reader object does not get that).
function compareFloat32(c: Tensor, e: Tensor, offset: number, v: Verdict): void {
  const dc = view(c)
  const de = view(e)
  const n = c.data.byteLength / 4
  for (let i = 0; i < n; i++) {
    const x = dc.getUint32(i * 4, true)
    const y = de.getUint32(i * 4, true)
    if (x !== y) judgeFloat(x, y, offset + i, v, true)
  }
}

function compareFloat16(c: Tensor, e: Tensor, offset: number, v: Verdict): void {
  const dc = view(c)
  const de = view(e)
  const n = c.data.byteLength / 2
  for (let i = 0; i < n; i++) {
    const x = dc.getUint16(i * 2, true)
    const y = de.getUint16(i * 2, true)
    if (x !== y) judgeFloat(x, y, offset + i, v, false)
  }
}

/** Two float32 (`wide`) or float16 elements whose bits differ (identical bits are 0 ulp, a same-payload NaN too). */
function judgeFloat(x: number, y: number, index: number, v: Verdict, wide: boolean): void {
  const signBit = wide ? 0x80000000 : 0x8000
  const inf = wide ? 0x7f800000 : 0x7c00
  const mx = x & (signBit - 1)
  const my = y & (signBit - 1)
  if (mx > inf || my > inf) {
    // NaN matches only NaN, whatever the payloads
    if (mx > inf && my > inf) return
    v.seen(MAX_REPORTED_ULP)
    v.fail(index)
    return
  }
  if (mx === inf || my === inf) {
    // the bits differ, so this infinity is not matched by the same infinity
    v.seen(MAX_REPORTED_ULP)
    v.fail(index)
    return
  }
  const ulp = Math.abs(ordered(x, signBit) - ordered(y, signBit))
  v.seen(ulp)
  if (ulp <= v.maxUlp) return
  // float16: exact in float64 throughout (both values times 2^24 are integers below 2^41, and so is their
  // difference; for an integer d, d · 1e9 ≤ maxAbsE9 · 2^24 is d ≤ ⌊maxAbsE9 · 2^24 / 1e9⌋)
  if (wide ? absWithinBound(f32Value(x), f32Value(y), v.bound) : Math.abs(f16Scaled(x) - f16Scaled(y)) <= v.abs16)
    return
  v.fail(index)
}

/** 2^256 − 1: a fixed-point threshold at or past it lets every difference through. */
const MAX_UINT256 = 2n ** 256n - 1n

/** A non-negative integer below 2^256 as 8 big-endian 32-bit limbs. */
function limbs(x: bigint): Uint32Array {
  const out = new Uint32Array(8)
  for (let k = 7; k >= 0; k--) {
    out[k] = Number(x & 0xffffffffn)
    x >>= 32n
  }
  return out
}

/**
 * Fixed-point elements (int256, big-endian two's complement) on 32-bit limbs, with no BigInt per element. An
 * element passes when d = |x − y| ≤ maxUlp or d · 1e9 ≤ maxAbsE9 · 10^decimals; for an integer d both are
 * d ≤ T with T = max(maxUlp, ⌊maxAbsE9 · 10^decimals / 1e9⌋), compared limb by limb. Flipping the sign bit maps
 * int256 onto 0..2^256 − 1 in order, so d is an unsigned 256-bit subtraction of the larger from the smaller.
 */
function compareFixed(c: Tensor, e: Tensor, offset: number, v: Verdict, decimals: number): void {
  const dc = view(c)
  const de = view(e)
  const n = c.data.byteLength / 32
  const byAbs = (v.maxAbs * 10n ** BigInt(decimals)) / E9
  const bound = byAbs > BigInt(v.maxUlp) ? byAbs : BigInt(v.maxUlp)
  const everything = bound >= MAX_UINT256
  const t = limbs(everything ? MAX_UINT256 : bound)
  const x = new Uint32Array(8)
  const y = new Uint32Array(8)
  const d = new Uint32Array(8)
  for (let i = 0; i < n; i++) {
    const at = i * 32
    let first = -1
    for (let k = 0; k < 8; k++) {
      x[k] = dc.getUint32(at + 4 * k, false)
      y[k] = de.getUint32(at + 4 * k, false)
      if (first < 0 && x[k] !== y[k]) first = k
    }
    if (first < 0) continue
    x[0] ^= 0x80000000
    y[0] ^= 0x80000000
    const hi = x[first] > y[first] ? x : y
    const lo = hi === x ? y : x
    let borrow = 0
    for (let k = 7; k >= 0; k--) {
      const r = hi[k] - lo[k] - borrow
      borrow = r < 0 ? 1 : 0
      d[k] = r < 0 ? r + 0x100000000 : r
    }
    let top = 0
    while (top < 7 && d[top] === 0) top++
    v.seen(top < 7 ? MAX_REPORTED_ULP : d[7])
    if (everything || !limbsGreater(d, t)) continue
    v.fail(offset + i)
  }
}

/** a > b, both 8 big-endian limbs. */
function limbsGreater(a: Uint32Array, b: Uint32Array): boolean {
  for (let k = 0; k < 8; k++) if (a[k] !== b[k]) return a[k] > b[k]
  return false
}

function sameBytes(a: Uint8Array, b: Uint8Array, at: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (a[at + k] !== b[at + k]) return false
  return true
}

function compareElements(c: Tensor, e: Tensor, offset: number, v: Verdict): void {
  const decimals = fixedDecimals(e.dtype)
  if (e.dtype === DType.float32) compareFloat32(c, e, offset, v)
  else if (e.dtype === DType.float16) compareFloat16(c, e, offset, v)
  else if (decimals !== undefined) compareFixed(c, e, offset, v, decimals)
  else compareExact(c, e, offset, v)
}

function compareExact(c: Tensor, e: Tensor, offset: number, v: Verdict): void {
  // integers and bool: exact, byte for byte (a bool byte 2 is not a bool byte 1)
  const size = elementBytes(e.dtype, e.name)
  const n = e.data.byteLength / size
  for (let i = 0; i < n; i++) {
    if (!sameBytes(c.data, e.data, i * size, size)) {
      v.fail(offset + i)
      return
    }
  }
}

// ------------------------------------------------------------------------------------------- argmax

/** Index within the row [start, start + len) of its largest element; first index on ties. */
type RowArgmax = (d: DataView, start: number, len: number) => number

/** Argmax over keys where a larger key is a larger value. */
function argmaxBy(key: (d: DataView, i: number) => number): RowArgmax {
  return (d, start, len) => {
    let best = 0
    let bestKey = key(d, start)
    for (let j = 1; j < len; j++) {
      const k = key(d, start + j)
      if (k > bestKey) {
        best = j
        bestKey = k
      }
    }
    return best
  }
}

/**
 * Floats: ordered-integer keys (−0 and +0 tie); a NaN is the largest, so the row's first NaN is its argmax (NumPy's
 * rule). One function per width, as for the element comparison.
 */
function float32Argmax(d: DataView, start: number, len: number): number {
  let best = 0
  let bestKey = Number.NEGATIVE_INFINITY
  for (let j = 0; j < len; j++) {
    const bits = d.getUint32((start + j) * 4, true)
    if ((bits & 0x7fffffff) > 0x7f800000) return j
    const k = ordered(bits, 0x80000000)
    if (k > bestKey) {
      best = j
      bestKey = k
    }
  }
  return best
}

function float16Argmax(d: DataView, start: number, len: number): number {
  let best = 0
  let bestKey = Number.NEGATIVE_INFINITY
  for (let j = 0; j < len; j++) {
    const bits = d.getUint16((start + j) * 2, true)
    if ((bits & 0x7fff) > 0x7c00) return j
    const k = ordered(bits, 0x8000)
    if (k > bestKey) {
      best = j
      bestKey = k
    }
  }
  return best
}

/** int64 little-endian: the high half signed, then the low half unsigned (no BigInt per element). */
function int64Argmax(d: DataView, start: number, len: number): number {
  let best = 0
  let bestHi = d.getInt32(start * 8 + 4, true)
  let bestLo = d.getUint32(start * 8, true)
  for (let j = 1; j < len; j++) {
    const at = (start + j) * 8
    const hi = d.getInt32(at + 4, true)
    const lo = d.getUint32(at, true)
    if (hi > bestHi || (hi === bestHi && lo > bestLo)) {
      best = j
      bestHi = hi
      bestLo = lo
    }
  }
  return best
}

/** int256 big-endian: the first 4 bytes signed, then 7 unsigned 4-byte words, compared in order. */
function fixedGreater(d: DataView, a: number, b: number): boolean {
  const ha = d.getInt32(a, false)
  const hb = d.getInt32(b, false)
  if (ha !== hb) return ha > hb
  for (let k = 4; k < 32; k += 4) {
    const wa = d.getUint32(a + k, false)
    const wb = d.getUint32(b + k, false)
    if (wa !== wb) return wa > wb
  }
  return false
}

function fixedArgmax(d: DataView, start: number, len: number): number {
  let best = 0
  for (let j = 1; j < len; j++) if (fixedGreater(d, (start + j) * 32, (start + best) * 32)) best = j
  return best
}

function rowArgmax(dtype: number): RowArgmax {
  switch (dtype) {
    case DType.float32:
      return float32Argmax
    case DType.float16:
      return float16Argmax
    case DType.uint8:
    case DType.bool:
      return argmaxBy((d, i) => d.getUint8(i))
    case DType.int8:
      return argmaxBy((d, i) => d.getInt8(i))
    case DType.int16:
      return argmaxBy((d, i) => d.getInt16(i * 2, true))
    case DType.int32:
      return argmaxBy((d, i) => d.getInt32(i * 4, true))
    case DType.int64:
      return int64Argmax
    default:
      return fixedArgmax // planComparison let only known dtypes through: the rest are fixed-point
  }
}

/** Per row along the last axis (a scalar is one row of one), the argmaxes must agree; firstBad is the row's first element. */
function compareArgmax(c: Tensor, e: Tensor, offset: number, v: Verdict): void {
  const n = numElements(e.shape)
  const len = e.shape.length === 0 ? 1 : e.shape[e.shape.length - 1]
  if (n === 0 || len === 0) return
  const argmax = rowArgmax(e.dtype)
  const dc = view(c)
  const de = view(e)
  for (let start = 0; start < n; start += len) {
    if (argmax(dc, start, len) !== argmax(de, start, len)) {
      v.fail(offset + start)
      return
    }
  }
}
