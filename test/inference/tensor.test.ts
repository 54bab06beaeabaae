import { describe, expect, it } from 'vitest'
import {
  checkTensor,
  DType,
  dtypeCode,
  dtypeName,
  fixedCode,
  fixedDecimals,
  fixedToFloat,
  floatToFixed,
  formatFloat32,
  fromFloat16Bits,
  rationalToFloat,
  readInt256,
  tensorFromValues,
  tensorValues,
  toFloat16Bits,
  writeInt256,
} from '../../src/inference/tensor.ts'

describe('dtype codes', () => {
  it('are ONNX TensorProto.DataType numbers, with fixed-point at 128 + decimals', () => {
    expect(DType).toEqual({ float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10 })
    expect(fixedCode(18)).toBe(146)
    expect(fixedDecimals(146)).toBe(18)
    expect(fixedDecimals(7)).toBeUndefined()
    expect(dtypeName(146)).toBe('fixed18')
    expect(dtypeCode('fixed6')).toBe(134)
    expect(() => dtypeCode('float64')).toThrow('unsupported dtype "float64"')
    expect(() => fixedCode(78)).toThrow('outside 0..77')
  })
})

describe('float16', () => {
  it('round-trips every finite half exactly', () => {
    const bad: number[] = []
    for (let h = 0; h < 0x10000; h++) {
      const v = fromFloat16Bits(h)
      if (!Number.isNaN(v) && toFloat16Bits(v) !== h) bad.push(h)
    }
    expect(bad).toEqual([])
  })
  it('rounds half to even', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even mantissa (1)
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00)
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02)
    expect(toFloat16Bits(65520)).toBe(0x7c00)
    expect(toFloat16Bits(2 ** -25)).toBe(0)
    expect(toFloat16Bits(3 * 2 ** -26)).toBe(1)
  })
})

describe('fixed point', () => {
  it('float -> fixed rounds the exact value half to even', () => {
    expect(floatToFixed(0.5, 0)).toBe(0n)
    expect(floatToFixed(1.5, 0)).toBe(2n)
    expect(floatToFixed(2.5, 0)).toBe(2n)
    expect(floatToFixed(-2.5, 0)).toBe(-2n)
    expect(floatToFixed(0.125, 2)).toBe(12n)
    expect(floatToFixed(0.375, 2)).toBe(38n)
    // 0.1 as a double is 0.1000000000000000055511151231257827...: exact, not the decimal literal
    expect(floatToFixed(0.1, 18)).toBe(100000000000000006n)
    expect(floatToFixed(Math.fround(0.1), 18)).toBe(100000001490116119n)
    expect(() => floatToFixed(Number.NaN, 2)).toThrow('has no fixed-point form')
  })
  it('fixed -> float is correctly rounded', () => {
    expect(fixedToFloat(100000000000000000n, 18, 'float64')).toBe(0.1)
    expect(fixedToFloat(1n, 1, 'float32')).toBe(Math.fround(0.1))
    expect(fixedToFloat(-15n, 1, 'float32')).toBe(-1.5)
    expect(fixedToFloat(123456789n, 3, 'float64')).toBe(123456.789)
    expect(fixedToFloat(10n ** 40n, 0, 'float32')).toBe(Number.POSITIVE_INFINITY)
    expect(rationalToFloat(1n, 3n, 'float16')).toBe(fromFloat16Bits(toFloat16Bits(1 / 3)))
    // subnormal float32
    expect(fixedToFloat(1n, 45, 'float32')).toBe(Math.fround(1e-45))
  })
  it('float32 -> fixed18 -> float32 is the identity for ordinary values', () => {
    for (const v of [0, 1, -1, 0.1, 2.71, 1e-6, 12345.678, -0.000123]) {
      const f = Math.fround(v)
      expect(fixedToFloat(floatToFixed(f, 18), 18, 'float32')).toBe(f)
    }
  })
  it('int256 is big-endian two complement', () => {
    const b = new Uint8Array(32)
    writeInt256(b, 0, -1n)
    expect(b.every((x) => x === 0xff)).toBe(true)
    writeInt256(b, 0, 258n)
    expect(b[31]).toBe(2)
    expect(b[30]).toBe(1)
    expect(readInt256(b, 0)).toBe(258n)
    expect(() => writeInt256(b, 0, 1n << 255n)).toThrow('does not fit in int256')
  })
})

describe('tensors', () => {
  it('encode little-endian row-major and decode back', () => {
    const t = tensorFromValues('x', DType.int16, [2], [1, -2])
    expect([...t.data]).toEqual([1, 0, 0xfe, 0xff])
    expect(tensorValues(t)).toEqual([1, -2])
    const i64 = tensorFromValues('y', DType.int64, [1], [-(2n ** 62n)])
    expect(tensorValues(i64)).toEqual([-(2n ** 62n)])
    expect(() => tensorFromValues('z', DType.uint8, [1], [256])).toThrow('value 256 is out of range for uint8')
    expect(() => tensorFromValues('z', DType.int8, [1], [-129])).toThrow(
      expect.objectContaining({ code: 'TENSOR_VALUE' }),
    )
    expect(() => tensorFromValues('z', DType.int32, [1], [1.5])).toThrow('value 1.5 is not an integer')
    expect(() => tensorFromValues('b', DType.bool, [1], [2])).toThrow('value 2 is not a bool')
  })
  it('checkTensor catches shape and length errors', () => {
    expect(() => checkTensor({ name: 'x', dtype: 1, shape: [2, 2], data: new Uint8Array(12) })).toThrow(
      'tensor "x" has 12 bytes of data but shape [2,2] of float32 needs 16',
    )
    expect(() => checkTensor({ name: 'x', dtype: 1, shape: [-1], data: new Uint8Array(0) })).toThrow(
      'tensor "x" has invalid shape [-1]: dimension -1 is not a non-negative integer',
    )
    expect(() => checkTensor({ name: 'x', dtype: 4, shape: [1], data: new Uint8Array(2) })).toThrow(
      'tensor "x" has unsupported dtype 4',
    )
  })
  it('formats float32 with the shortest string that round-trips', () => {
    const vals = [0.1, 1 / 3, 1e-45, 3.4028234663852886e38, -2.5, 16777217, 1e-7, 123.456]
    for (const v of vals) {
      const f = Math.fround(v)
      const s = formatFloat32(f)
      expect(Math.fround(Number(s))).toBe(f)
      expect(s.length).toBeLessThanOrEqual(String(f).length)
    }
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1')
    expect(formatFloat32(-0)).toBe('-0')
  })
})
