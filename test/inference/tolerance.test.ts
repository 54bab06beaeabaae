import { describe, expect, it } from 'vitest'
import { TensorError, ToleranceParamError } from '../../src/inference/errors.ts'
import type { Tensor } from '../../src/inference/tensor.ts'
import { DType, fixedCode, fromFloat16Bits, tensorFromValues, toFloat16Bits } from '../../src/inference/tensor.ts'
import {
  MAX_REPORTED_ULP,
  NO_BAD_ELEMENT,
  planComparison,
  type Tolerance,
  withinTolerance,
} from '../../src/inference/tolerance.ts'

const f32 = (values: number[], name = 'y', shape = [values.length]) =>
  tensorFromValues(name, DType.float32, shape, values)
/** A float32 tensor from raw IEEE bits. */
function bits32(words: number[], name = 'y', shape = [words.length]): Tensor {
  return { name, dtype: DType.float32, shape, data: new Uint8Array(new Uint32Array(words).buffer) }
}
function bits16(words: number[], name = 'y', shape = [words.length]): Tensor {
  return { name, dtype: DType.float16, shape, data: new Uint8Array(new Uint16Array(words).buffer) }
}
const tol = (over: Partial<Tolerance> = {}): Tolerance => ({ maxUlp: 0, maxAbsE9: 0n, sameArgmax: false, ...over })
const ONE = 0x3f800000
const NAN = 0x7fc00000
const INF = 0x7f800000
const NEG = 0x80000000

describe('withinTolerance: float32 ulp and absolute difference', () => {
  it('one ulp passes with maxUlp 1 and fails with maxUlp 0', () => {
    const a = [bits32([ONE, ONE + 1, ONE])]
    const b = [bits32([ONE, ONE, ONE])]
    expect(withinTolerance(a, b, tol({ maxUlp: 1 }))).toEqual({ ok: true, worstUlp: 1, firstBad: NO_BAD_ELEMENT })
    expect(withinTolerance(a, b, tol())).toEqual({ ok: false, worstUlp: 1, firstBad: 1n })
  })

  it('counts ulps across zero on the ordered-integer line; −0 and +0 are 0 apart', () => {
    expect(withinTolerance([bits32([NEG])], [bits32([0])], tol())).toEqual({
      ok: true,
      worstUlp: 0,
      firstBad: NO_BAD_ELEMENT,
    })
    // the smallest negative and positive subnormals: 2 ulps apart through zero
    const r = withinTolerance([bits32([NEG + 1])], [bits32([1])], tol({ maxUlp: 1 }))
    expect(r).toEqual({ ok: false, worstUlp: 2, firstBad: 0n })
    expect(withinTolerance([bits32([NEG + 1])], [bits32([1])], tol({ maxUlp: 2 })).ok).toBe(true)
  })

  it('a difference within maxAbs passes, beyond it fails', () => {
    const a = [f32([1, 1.001])]
    const b = [f32([1, 1])]
    // float32(1.001) − 1 = 0.00100004673004150390625
    expect(withinTolerance(a, b, tol({ maxAbsE9: 1_001_000n })).ok).toBe(true)
    expect(withinTolerance(a, b, tol({ maxAbsE9: 1_000_000n }))).toMatchObject({ ok: false, firstBad: 1n })
    expect(withinTolerance(a, b, tol({ maxAbsE9: 1_000_046n })).ok).toBe(false)
    expect(withinTolerance(a, b, tol({ maxAbsE9: 1_000_047n })).ok).toBe(true)
    // ulp and abs are alternatives: either passing is enough
    expect(withinTolerance(a, b, tol({ maxUlp: 10_000, maxAbsE9: 1n })).ok).toBe(true)
  })

  it('decides exactly at the bound (|a − b| == maxAbsE9 · 1e-9)', () => {
    // 0.5 apart, exactly representable: the float64 shortcut is not decisive here
    expect(withinTolerance([f32([1.5])], [f32([1])], tol({ maxAbsE9: 500_000_000n })).ok).toBe(true)
    expect(withinTolerance([f32([1.5])], [f32([1])], tol({ maxAbsE9: 499_999_999n })).ok).toBe(false)
    // the largest float32s: 2^104 apart; maxAbsE9 · 1e-9 equals it only for maxAbsE9 = 2^104 · 1e9 (over uint64)
    const big = 0x7f7fffff
    expect(withinTolerance([bits32([big])], [bits32([big - 1])], tol({ maxAbsE9: 2n ** 64n - 1n })).ok).toBe(false)
    // subnormals: 2^-149 apart is ~1.4e-45, far below 1e-9
    expect(withinTolerance([bits32([3])], [bits32([1])], tol({ maxAbsE9: 1n })).ok).toBe(true)
  })

  it('matches an exact rational reference on pairs right at their bound', () => {
    // |a − b| · 1e9 against M, in integers scaled by 2^149: the definition, with no float64 step
    const ref = (a: number, b: number, m: bigint) => {
      const x = BigInt(a * 2 ** 149)
      const y = BigInt(b * 2 ** 149)
      return (x > y ? x - y : y - x) * 1_000_000_000n <= m << 149n
    }
    let seed = 7
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed
    }
    let checked = 0
    for (let i = 0; i < 2000; i++) {
      const ea = Math.fround((rnd() / 2 ** 32 - 0.5) * 2 ** ((rnd() % 40) - 20))
      const eb = Math.fround(ea + (rnd() / 2 ** 32 - 0.5) * 2 ** ((rnd() % 20) - 20))
      const d = Math.abs(ea - eb) * 1e9
      for (const m of [BigInt(Math.floor(d)), BigInt(Math.ceil(d)), BigInt(Math.floor(d)) - 1n]) {
        if (m < 0n || m >= 2n ** 64n) continue
        expect(withinTolerance([f32([ea])], [f32([eb])], tol({ maxAbsE9: m })).ok).toBe(ref(ea, eb, m))
        checked++
      }
    }
    // differences that are multiples of 2^-9 make |a − b| · 1e9 an integer: bounds exactly at, and 1 around, it
    // (up to ~1.6e13, so one off is inside the 2^-40 band where float64 alone cannot decide)
    for (let i = 0; i < 1000; i++) {
      const ea = ((rnd() % 2 ** 23) - 2 ** 22) * 2 ** -9
      const eb = i % 2 ? ea + ((rnd() % 1000) - 500) * 2 ** -9 : ((rnd() % 2 ** 23) - 2 ** 22) * 2 ** -9
      const exact = BigInt(Math.abs(ea - eb) * 1e9)
      for (const m of [exact - 1n, exact, exact + 1n]) {
        if (m < 0n) continue
        const got = withinTolerance([f32([ea])], [f32([eb])], tol({ maxAbsE9: m })).ok
        expect(got).toBe(ref(ea, eb, m))
        expect(got).toBe(m >= exact)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(6000)
  })

  it('NaN matches only NaN (any payload); an infinity only itself', () => {
    const ok = (a: number[], b: number[], t = tol()) => withinTolerance([bits32(a)], [bits32(b)], t)
    expect(ok([NAN], [0x7f800001]).ok).toBe(true)
    expect(ok([NAN | NEG], [NAN]).ok).toBe(true)
    expect(ok([NAN], [ONE], tol({ maxUlp: MAX_REPORTED_ULP, maxAbsE9: 2n ** 64n - 1n }))).toEqual({
      ok: false,
      worstUlp: MAX_REPORTED_ULP,
      firstBad: 0n,
    })
    expect(ok([INF], [INF]).ok).toBe(true)
    expect(ok([INF | NEG], [INF | NEG]).ok).toBe(true)
    expect(ok([INF], [INF | NEG], tol({ maxUlp: MAX_REPORTED_ULP })).ok).toBe(false)
    // one ulp below +Inf is the largest float: still not the same infinity
    expect(ok([INF], [INF - 1], tol({ maxUlp: MAX_REPORTED_ULP, maxAbsE9: 2n ** 64n - 1n })).ok).toBe(false)
    expect(ok([INF], [NAN]).ok).toBe(false)
  })

  it('reports the worst ulp over all elements and the first bad flat index across outputs', () => {
    const a = [f32([1, 2], 'a'), bits32([ONE, ONE + 5, ONE + 3], 'b')]
    const b = [f32([1, 2], 'a'), bits32([ONE, ONE, ONE], 'b')]
    expect(withinTolerance(a, b, tol({ maxUlp: 4 }))).toEqual({ ok: false, worstUlp: 5, firstBad: 3n })
    expect(withinTolerance(a, b, tol({ maxUlp: 2 }))).toEqual({ ok: false, worstUlp: 5, firstBad: 3n })
    expect(withinTolerance(a, b, tol({ maxUlp: 5 }))).toEqual({ ok: true, worstUlp: 5, firstBad: NO_BAD_ELEMENT })
  })
})

describe('withinTolerance: float16, fixed-point, integers', () => {
  it('float16: ulps on its own bits, NaN and infinities as float32', () => {
    const one = toFloat16Bits(1)
    expect(withinTolerance([bits16([one + 1])], [bits16([one])], tol({ maxUlp: 1 }))).toEqual({
      ok: true,
      worstUlp: 1,
      firstBad: NO_BAD_ELEMENT,
    })
    expect(withinTolerance([bits16([one + 1])], [bits16([one])], tol()).ok).toBe(false)
    expect(withinTolerance([bits16([0x8000])], [bits16([0])], tol()).ok).toBe(true)
    expect(withinTolerance([bits16([0x7e00])], [bits16([0x7c01])], tol()).ok).toBe(true)
    expect(withinTolerance([bits16([0x7c00])], [bits16([0x7bff])], tol({ maxUlp: 100 })).ok).toBe(false)
    // 1 + 2^-10 vs 1: 0.0009765625 apart
    expect(withinTolerance([bits16([one + 1])], [bits16([one])], tol({ maxAbsE9: 976_562n })).ok).toBe(false)
    expect(withinTolerance([bits16([one + 1])], [bits16([one])], tol({ maxAbsE9: 976_563n })).ok).toBe(true)
  })

  it('float16 abs test matches an exact reference on random finite pairs at and around their bound', () => {
    let seed = 5
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed >>> 8
    }
    const finite = () => {
      for (;;) {
        const b = rnd() & 0xffff
        if ((b & 0x7c00) !== 0x7c00) return b
      }
    }
    let checked = 0
    for (let i = 0; i < 3000; i++) {
      const x = finite()
      const y = i % 3 ? (x + (rnd() % 64) - 32) & 0xffff : finite()
      if ((y & 0x7c00) === 0x7c00) continue
      const a = BigInt(fromFloat16Bits(x) * 2 ** 24)
      const b = BigInt(fromFloat16Bits(y) * 2 ** 24)
      const d = a > b ? a - b : b - a
      const at = (d * 1_000_000_000n) >> 24n
      for (const m of [at - 1n, at, at + 1n, BigInt(rnd())]) {
        if (m < 0n) continue
        const want = d * 1_000_000_000n <= m << 24n
        expect(withinTolerance([bits16([x])], [bits16([y])], tol({ maxAbsE9: m })).ok).toBe(want)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(9000)
    // the extremes: −65504 against +65504 is 131008 apart
    const max = toFloat16Bits(65504)
    expect(withinTolerance([bits16([max])], [bits16([max | 0x8000])], tol({ maxAbsE9: 131008n * 10n ** 9n })).ok).toBe(
      true,
    )
    expect(
      withinTolerance([bits16([max])], [bits16([max | 0x8000])], tol({ maxAbsE9: 131008n * 10n ** 9n - 1n })).ok,
    ).toBe(false)
    expect(withinTolerance([bits16([max])], [bits16([max | 0x8000])], tol({ maxAbsE9: 2n ** 64n - 1n })).ok).toBe(true)
  })

  it('fixed-point: maxUlp counts steps of 10^-decimals; maxAbsE9 compares the real value', () => {
    const fx = (v: bigint[]) => tensorFromValues('y', fixedCode(18), [v.length], v)
    const e = fx([10n ** 18n, -5n])
    expect(withinTolerance([fx([10n ** 18n + 1n, -5n])], [e], tol({ maxUlp: 1 }))).toMatchObject({
      ok: true,
      worstUlp: 1,
    })
    expect(withinTolerance([fx([10n ** 18n + 1n, -5n])], [e], tol())).toMatchObject({ ok: false, firstBad: 0n })
    // 1e-9 at 18 decimals is 10^9 steps
    expect(withinTolerance([fx([10n ** 18n, 10n ** 9n - 5n])], [e], tol({ maxAbsE9: 1n })).ok).toBe(true)
    expect(withinTolerance([fx([10n ** 18n, 10n ** 9n - 4n])], [e], tol({ maxAbsE9: 1n }))).toEqual({
      ok: false,
      worstUlp: 10 ** 9 + 1,
      firstBad: 1n,
    })
    // distances past 2^32 − 1 saturate
    const far = withinTolerance([fx([-(2n ** 200n), -5n])], [e], tol())
    expect(far).toEqual({ ok: false, worstUlp: MAX_REPORTED_ULP, firstBad: 0n })
  })

  it('fixed-point matches a BigInt reference on random int256 pairs (signs, magnitudes, borrows, bounds)', () => {
    let seed = 11
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed
    }
    const big = (bits: number) => {
      let x = 0n
      for (let k = 0; k < bits; k += 16) x = (x << 16n) | BigInt(rnd() & 0xffff)
      return (x & ((1n << BigInt(bits)) - 1n)) - (rnd() & 1 ? 1n << BigInt(bits - 1) : 0n)
    }
    const clamp = (x: bigint) => (x >= 2n ** 255n ? 2n ** 255n - 1n : x < -(2n ** 255n) ? -(2n ** 255n) : x)
    for (let i = 0; i < 3000; i++) {
      const decimals = rnd() % 2 ? 9 : rnd() % 78
      const x = clamp(big([8, 40, 64, 100, 200, 255][rnd() % 6]))
      const step = [0n, 1n, -1n, big(33), big(64), big(255), 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n) - 1n][rnd() % 9]
      const y = clamp(x + step)
      const d = x > y ? x - y : y - x
      // bounds at the difference and one below it, where a wrong limb or borrow flips the verdict
      const near = (b: bigint) => (b < 0n ? 0n : b)
      const maxUlp = [0, 1, rnd(), MAX_REPORTED_ULP, Number(near(d)), Number(near(d - 1n))][rnd() % 6]
      const maxAbsE9 = [0n, 1n, BigInt(rnd()), 2n ** 64n - 1n, near(d), near(d - 1n)][rnd() % 6]
      if (maxUlp > MAX_REPORTED_ULP || maxAbsE9 >= 2n ** 64n) continue
      const ok = d <= BigInt(maxUlp) || d * 1_000_000_000n <= maxAbsE9 * 10n ** BigInt(decimals)
      const t = (v: bigint) => tensorFromValues('y', fixedCode(decimals), [1], [v])
      const r = withinTolerance([t(x)], [t(y)], tol({ maxUlp, maxAbsE9 }))
      expect(r.ok).toBe(ok)
      expect(r.worstUlp).toBe(d > BigInt(MAX_REPORTED_ULP) ? MAX_REPORTED_ULP : Number(d))
    }
    // the extremes: int256 min against max is 2^256 − 1 apart, passing only when the bound reaches it
    const ends = (dec: number) => [
      [tensorFromValues('y', fixedCode(dec), [1], [-(2n ** 255n)])],
      [tensorFromValues('y', fixedCode(dec), [1], [2n ** 255n - 1n])],
    ]
    const [lo, hi] = ends(77)
    expect(withinTolerance(lo, hi, tol({ maxAbsE9: 2n ** 64n - 1n })).ok).toBe(true)
    expect(withinTolerance(lo, hi, tol({ maxAbsE9: 10n ** 9n })).ok).toBe(false)
    const [lo0, hi0] = ends(0)
    expect(withinTolerance(lo0, hi0, tol({ maxUlp: MAX_REPORTED_ULP, maxAbsE9: 2n ** 64n - 1n })).ok).toBe(false)
  })

  it('integers and bool compare exactly, byte for byte', () => {
    for (const dtype of [DType.uint8, DType.int8, DType.int16, DType.int32, DType.int64]) {
      const a = tensorFromValues('y', dtype, [3], [1, 2, 3])
      expect(withinTolerance([a], [tensorFromValues('y', dtype, [3], [1, 2, 3])], tol()).ok).toBe(true)
      expect(
        withinTolerance(
          [a],
          [tensorFromValues('y', dtype, [3], [1, 2, 4])],
          tol({ maxUlp: 100, maxAbsE9: 10n ** 18n }),
        ),
      ).toEqual({ ok: false, worstUlp: 0, firstBad: 2n })
    }
    const t: Tensor = { name: 'y', dtype: DType.bool, shape: [2], data: new Uint8Array([1, 2]) }
    const u: Tensor = { name: 'y', dtype: DType.bool, shape: [2], data: new Uint8Array([1, 1]) }
    expect(withinTolerance([t], [u], tol()).firstBad).toBe(1n)
  })
})

describe('withinTolerance: sameArgmax', () => {
  const am = tol({ sameArgmax: true })

  it('a different argmax fails; the same argmax with different values passes', () => {
    const e = f32([0.1, 0.7, 0.2, 0.5, 0.4, 0.1], 'p', [2, 3])
    expect(withinTolerance([f32([0.3, 0.4, 0.3, 0.9, 0, 0], 'p', [2, 3])], [e], am)).toEqual({
      ok: true,
      worstUlp: 0,
      firstBad: NO_BAD_ELEMENT,
    })
    // row 1's argmax moves: firstBad is that row's first element
    expect(withinTolerance([f32([0.1, 0.7, 0.2, 0.5, 0.6, 0.1], 'p', [2, 3])], [e], am)).toEqual({
      ok: false,
      worstUlp: 0,
      firstBad: 3n,
    })
  })

  it('ties go to the first index, −0 ties +0, the first NaN is the argmax', () => {
    expect(withinTolerance([f32([2, 2, 1])], [f32([2, 1, 1])], am).ok).toBe(true)
    expect(withinTolerance([f32([1, 2, 2])], [f32([1, 2, 1])], am).ok).toBe(true)
    expect(withinTolerance([bits32([NEG, 0])], [bits32([0, NEG])], am).ok).toBe(true)
    expect(withinTolerance([bits32([ONE, NAN, NAN])], [bits32([INF, NAN, ONE])], am).ok).toBe(true)
    expect(withinTolerance([bits32([NAN, ONE])], [bits32([ONE, NAN])], am).ok).toBe(false)
    expect(withinTolerance([bits32([ONE | NEG, 0x3f000000 | NEG])], [bits32([0, 0x3f000000 | NEG])], am).ok).toBe(false)
  })

  it('works on every dtype: float16, integers, int64 and fixed-point (signed)', () => {
    const h = (v: number[]) => bits16(v.map(toFloat16Bits))
    expect(withinTolerance([h([-1, -0.5, -2])], [h([-3, -0.25, -4])], am).ok).toBe(true)
    expect(withinTolerance([h([-1, -0.5, -2])], [h([-0.1, -0.25, -4])], am).ok).toBe(false)
    for (const dtype of [DType.int8, DType.int16, DType.int32, DType.int64]) {
      const t = (v: number[]) => tensorFromValues('y', dtype, [v.length], v)
      expect(withinTolerance([t([-5, -1, -3])], [t([-9, -2, -7])], am).ok).toBe(true)
      expect(withinTolerance([t([-5, -1, -3])], [t([-9, -7, -2])], am).ok).toBe(false)
    }
    const big = (v: bigint[]) => tensorFromValues('y', DType.int64, [v.length], v)
    expect(withinTolerance([big([2n ** 40n, 2n ** 40n + 1n])], [big([0n, 1n])], am).ok).toBe(true)
    // high halves equal, low halves decide (unsigned); negative high halves below positive ones
    expect(withinTolerance([big([2n ** 32n + 5n, 2n ** 32n + 2n ** 31n])], [big([0n, 1n])], am).ok).toBe(true)
    expect(withinTolerance([big([-(2n ** 40n), -1n, -(2n ** 62n)])], [big([0n, 1n, -1n])], am).ok).toBe(true)
    expect(withinTolerance([big([2n ** 63n - 1n, -(2n ** 63n)])], [big([1n, 0n])], am).ok).toBe(true)
    const fx = (v: bigint[]) => tensorFromValues('y', fixedCode(6), [v.length], v)
    expect(withinTolerance([fx([-(2n ** 200n), -1n, -2n])], [fx([-5n, 3n, 2n])], am).ok).toBe(true)
    expect(withinTolerance([fx([-(2n ** 200n), 2n ** 33n, 2n ** 33n + 1n])], [fx([-5n, 3n, 2n])], am).ok).toBe(false)
  })

  it('a scalar is one row; an empty last axis has no rows', () => {
    expect(withinTolerance([f32([1], 'y', [])], [f32([5], 'y', [])], am).ok).toBe(true)
    expect(withinTolerance([f32([], 'y', [4, 0])], [f32([], 'y', [4, 0])], am).ok).toBe(true)
  })
})

describe('withinTolerance: structure and malformed input', () => {
  const e = [f32([1, 2], 'a'), f32([3], 'b')]
  it('count, name, dtype or shape mismatch is ok=false with firstBad 0 and nothing compared', () => {
    const mismatch = { ok: false, worstUlp: 0, firstBad: 0n }
    expect(withinTolerance([e[0]], e, tol())).toEqual(mismatch)
    expect(withinTolerance([e[0], f32([3], 'c')], e, tol())).toEqual(mismatch)
    expect(withinTolerance([e[0], tensorFromValues('b', DType.int32, [1], [3])], e, tol())).toEqual(mismatch)
    expect(withinTolerance([f32([1, 2], 'a', [1, 2]), e[1]], e, tol())).toEqual(mismatch)
    expect(withinTolerance([e[1], e[0]], e, tol())).toEqual(mismatch)
    expect(planComparison([e[0]], e)).toEqual({ sameStructure: false, elements: 0, bytes: 20 })
    expect(planComparison(e, e)).toEqual({ sameStructure: true, elements: 3, bytes: 24 })
    expect(withinTolerance([], [], tol())).toEqual({ ok: true, worstUlp: 0, firstBad: NO_BAD_ELEMENT })
  })

  it('a malformed tensor or tolerance throws a typed error', () => {
    const short: Tensor = { name: 'a', dtype: DType.float32, shape: [2], data: new Uint8Array(7) }
    expect(() => withinTolerance([short, e[1]], e, tol())).toThrow(TensorError)
    const odd: Tensor = { name: 'a', dtype: 4, shape: [1], data: new Uint8Array(2) }
    expect(() => withinTolerance(e, [odd], tol())).toThrow(TensorError)
    expect(() => withinTolerance(e, e, tol({ maxUlp: 2 ** 32 }))).toThrow(ToleranceParamError)
    expect(() => withinTolerance(e, e, tol({ maxUlp: -1 }))).toThrow(ToleranceParamError)
    expect(() => withinTolerance(e, e, tol({ maxAbsE9: 2n ** 64n }))).toThrow(ToleranceParamError)
    const many = Array.from({ length: 65 }, (_, i) => f32([i], `t${i}`))
    expect(() => withinTolerance(many, many, tol())).toThrow(/65 tensors, the limit is 64/)
  })
})
