// An exact `|a − b| ≤ M / 10^9` for float64 values a and b (tolerance.ts's float32 abs test), in a few float64
// operations per element and no BigInt: the bound is rounded to doubles once per call, exactly, and each element's
// difference is kept exact as the pair (s, e) of Knuth's TwoSum. JavaScript's float64 arithmetic is IEEE
// round-to-nearest on every CPU, so the verdict is the same bit everywhere.

const F64 = new Float64Array(1)
const BITS = new BigUint64Array(F64.buffer)
const SIGN = 1n << 63n

/** The next double above `x` (finite `x`). */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE
  F64[0] = x
  BITS[0] = x > 0 ? BITS[0] + 1n : BITS[0] - 1n
  return F64[0]
}

/** The next double below `x` (finite `x`). */
export function nextDown(x: number): number {
  return -nextUp(-x)
}

/** A finite double as the exact rational m · 2^e. */
function exact(x: number): { m: bigint; e: number } {
  F64[0] = x
  const bits = BITS[0]
  const exp = Number((bits >> 52n) & 0x7ffn)
  const frac = bits & ((1n << 52n) - 1n)
  const m = exp === 0 ? frac : frac | (1n << 52n)
  return { m: bits & SIGN ? -m : m, e: (exp === 0 ? 1 : exp) - 1075 }
}

/** x ≤ p / q exactly (q > 0). */
function atMost(x: number, p: bigint, q: bigint): boolean {
  const { m, e } = exact(x)
  return e >= 0 ? (m << BigInt(e)) * q <= p : m * q <= p << BigInt(-e)
}

/**
 * The largest double ≤ p / q (q > 0), for |p / q| below 2^1000 and p, q below 2^1000: start from the float64
 * quotient (a few ulps off at most) and step to the exact answer.
 */
export function roundDown(p: bigint, q: bigint): number {
  let t = Number(p) / Number(q)
  while (!atMost(t, p, q)) t = nextDown(t)
  while (atMost(nextUp(t), p, q)) t = nextUp(t)
  return t
}

/**
 * `M / 10^9` as doubles, for {@link absWithinBound}: `t` the largest double ≤ M/1e9, `up` the next one, and the
 * largest doubles ≤ M/1e9 − t (≥ 0) and ≤ M/1e9 − up (< 0).
 */
export interface AbsBound {
  t: number
  up: number
  belowT: number
  belowUp: number
}

/** Round `maxAbsE9 / 10^9` once per call (maxAbsE9 a uint64). */
export function absBound(maxAbsE9: bigint): AbsBound {
  const q = 1_000_000_000n
  const t = roundDown(maxAbsE9, q)
  const up = nextUp(t)
  // M/1e9 − x as one fraction over 1e9 · 2^k, with x = m · 2^e exact
  const minus = (x: number) => {
    const { m, e } = exact(x)
    return e >= 0
      ? roundDown(maxAbsE9 - m * q * (1n << BigInt(e)), q)
      : roundDown((maxAbsE9 << BigInt(-e)) - m * q, q << BigInt(-e))
  }
  return { t, up, belowT: minus(t), belowUp: minus(up) }
}

/**
 * |a − b| ≤ M / 10^9 exactly, for finite doubles a, b whose difference cannot overflow (float32 values).
 *
 * TwoSum gives s = fl(a − b) and e with s + e = a − b exactly; flip both so s ≥ 0, then D = |a − b| = s + e, s is D
 * rounded to nearest, so |e| is at most half the gap from s to its neighbour on e's side. With t the largest double
 * ≤ M/1e9 and up the next one:
 * - s < t: D ≤ s + gap/2 < nextUp(s) ≤ t ≤ M/1e9, pass;
 * - s > up: D ≥ s − gap/2 > nextDown(s) ≥ up > M/1e9, fail;
 * - s = t: D ≤ M/1e9 ⇔ e ≤ M/1e9 − t ⇔ e ≤ belowT (e is a double, belowT the largest double under the bound);
 * - s = up: likewise with belowUp.
 */
export function absWithinBound(a: number, b: number, bound: AbsBound): boolean {
  let s = a - b
  const bv = s - a
  let e = a - (s - bv) + (-b - bv)
  if (s < 0) {
    s = -s
    e = -e
  }
  if (s < bound.t) return true
  if (s === bound.t) return e <= bound.belowT
  if (s === bound.up) return e <= bound.belowUp
  return false
}
