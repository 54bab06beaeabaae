import { describe, expect, it } from 'vitest'
import { absBound, absWithinBound, nextDown, nextUp, roundDown } from '../../src/inference/float-exact.ts'

const F64 = new Float64Array(1)
const BITS = new BigUint64Array(F64.buffer)

/** A finite double times 2^1074: an exact integer. */
function scaled(x: number): bigint {
  F64[0] = x
  const bits = BITS[0]
  const exp = Number((bits >> 52n) & 0x7ffn)
  const frac = bits & ((1n << 52n) - 1n)
  const m = exp === 0 ? frac : frac | (1n << 52n)
  const v = m << BigInt((exp === 0 ? 1 : exp) - 1)
  return bits >> 63n ? -v : v
}

/** The definition: |a − b| · 10^9 ≤ M, in integers. */
const reference = (a: number, b: number, m: bigint) => {
  const d = scaled(a) - scaled(b)
  return (d < 0n ? -d : d) * 1_000_000_000n <= m << 1074n
}

let seed = 3
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0
  return seed >>> 4
}
const randomM = (): bigint => {
  switch (rnd() % 5) {
    case 0:
      return BigInt(rnd() % 4)
    case 1:
      return 2n ** 64n - 1n - BigInt(rnd() % 3)
    case 2:
      return BigInt(rnd()) * 1_000_000_000n
    default: {
      const bits = BigInt((rnd() % 64) + 1)
      return ((BigInt(rnd()) << 32n) | BigInt(rnd())) & ((1n << bits) - 1n)
    }
  }
}

describe('float-exact', () => {
  it('nextUp and nextDown step one double, across zero and binades', () => {
    expect(nextUp(0)).toBe(Number.MIN_VALUE)
    expect(nextDown(0)).toBe(-Number.MIN_VALUE)
    expect(nextUp(1)).toBe(1 + Number.EPSILON)
    expect(nextDown(1)).toBe(1 - Number.EPSILON / 2)
    expect(nextUp(-Number.MIN_VALUE)).toBe(-0)
    expect(nextDown(nextUp(12.375))).toBe(12.375)
  })

  it('roundDown is the largest double at or below p / q', () => {
    for (let i = 0; i < 3000; i++) {
      const p = randomM() * (rnd() % 2 ? 1n : -1n)
      const q = BigInt((rnd() % 1_000_000) + 1) << BigInt(rnd() % 90)
      const t = roundDown(p, q)
      // t ≤ p/q < nextUp(t), checked in integers
      const s = 1074n
      expect(scaled(t) * q <= p << s).toBe(true)
      expect(scaled(nextUp(t)) * q > p << s).toBe(true)
    }
  })

  it('absWithinBound decides like the definition, at and around every bound', () => {
    let checked = 0
    for (let i = 0; i < 1500; i++) {
      const m = randomM()
      const b = absBound(m)
      const gap = nextUp(b.t) - b.t
      // differences rounding to t or to up, with a tail e of every size and sign, and random ones around t
      const tails = [0, Number.MIN_VALUE, gap / 4, gap / 2, gap / 3, b.belowT, nextUp(b.belowT), nextDown(b.belowT)]
      const pairs: [number, number][] = []
      for (const tail of tails) {
        pairs.push([b.t, -tail], [b.t, tail], [b.up, tail], [b.up, -tail], [-b.t, tail], [b.up, -b.belowUp])
        pairs.push([b.up, nextUp(-b.belowUp)], [b.up, nextDown(-b.belowUp)])
      }
      const r = (rnd() / 2 ** 28 - 0.5) * 2 ** ((rnd() % 60) - 30)
      pairs.push([b.t + r, r], [r, r - b.t], [b.t * 3, b.t * 2], [nextUp(b.t) * 2, b.t], [1e30, 1e30 - b.t])
      for (const [x, y] of pairs) {
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue
        expect(absWithinBound(x, y, b), `M=${m} a=${x} b=${y}`).toBe(reference(x, y, m))
        checked++
      }
    }
    expect(checked).toBeGreaterThan(50_000)
  })

  it('the bound of 0 passes only equal values; of 2^64 − 1 everything within 1.8e10', () => {
    const zero = absBound(0n)
    expect(absWithinBound(1, 1, zero)).toBe(true)
    expect(absWithinBound(-0, 0, zero)).toBe(true)
    expect(absWithinBound(Number.MIN_VALUE, 0, zero)).toBe(false)
    const max = absBound(2n ** 64n - 1n)
    // (2^64 − 1) / 1e9 = 18446744073.709551615 lies strictly between two doubles
    expect(absWithinBound(max.t, 0, max)).toBe(true)
    expect(absWithinBound(max.up, 0, max)).toBe(false)
    expect(max.belowT).toBeGreaterThan(0)
    expect(absWithinBound(1e10, -8e9, max)).toBe(true)
    expect(absWithinBound(1e10, -8.5e9, max)).toBe(false)
  })
})
