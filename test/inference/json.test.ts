import { describe, expect, it } from 'vitest'
import { formatTensorJson, parseTensorJson } from '../../src/inference/json.ts'
import { DType, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'

const model = [
  { name: 'x', dtype: 'float32', shape: [1, 4] },
  { name: 'ids', dtype: 'int64', shape: [1, 'T'] },
]

describe('JSON tensor format', () => {
  it('parses the explicit form and bare nested arrays (dtype from the model)', () => {
    const [x] = parseTensorJson({ inputs: { x: { dtype: 'float32', shape: [1, 4], data: [0.1, 0.2, 0.3, 0.4] } } })
    expect(x.dtype).toBe(DType.float32)
    expect(x.shape).toEqual([1, 4])
    expect(tensorValues(x)).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround))
    const [bx, ids] = parseTensorJson(
      { inputs: { x: [[0.1, 0.2, 0.3, 0.4]], ids: [[1, 2, '9007199254740993']] } },
      { model },
    )
    expect(bx.shape).toEqual([1, 4])
    expect(ids.dtype).toBe(DType.int64)
    expect(tensorValues(ids)).toEqual([1n, 2n, 9007199254740993n])
  })
  it('rejects malformed documents with the tensor name', () => {
    expect(() => parseTensorJson({ inputs: { y: [[1]] } }, { model })).toThrow(
      'tensor "y" is a bare array but its dtype is unknown',
    )
    expect(() => parseTensorJson({ inputs: { x: [[1, 2], [3]] } }, { model })).toThrow('tensor "x" is a ragged array')
    expect(() => parseTensorJson({ inputs: { x: { dtype: 'float32', shape: [2], data: [1] } } })).toThrow(
      'tensor "x" has 1 values but shape [2] needs 2',
    )
    expect(() => parseTensorJson({ inputs: { x: { dtype: 'float32', shape: [1], data: ['a'] } } })).toThrow(
      'tensor "x" value #0 "a" is not a valid float32',
    )
    expect(() => parseTensorJson({ input: {} })).toThrow('expected an object under "inputs"')
    expect(() => parseTensorJson({ inputs: { x: { dtype: 'complex64', shape: [1], data: [1] } } })).toThrow(
      'tensor "x" has unsupported dtype "complex64"',
    )
  })
  it('prints floats that parse back to the identical float32 / float16', () => {
    const vals = [0.1, 1 / 3, -2.5e-38, 3.4e38, 1e-45, 0, -0, 7, Number.NaN, Number.POSITIVE_INFINITY]
    const t = tensorFromValues('y', DType.float32, [vals.length], vals)
    const h = tensorFromValues('h', DType.float16, [4], [0.1, 1 / 3, 65504, -6e-8])
    const i = tensorFromValues('i', DType.int64, [2], [2n ** 62n, -3n])
    const text = formatTensorJson([t, h, i])
    expect(text).toContain('0.1, 0.33333334,')
    const back = parseTensorJson(JSON.parse(text), { key: 'outputs' })
    expect(Buffer.from(back[0].data).equals(Buffer.from(t.data))).toBe(true)
    expect(Buffer.from(back[1].data).equals(Buffer.from(h.data))).toBe(true)
    expect(tensorValues(back[2])).toEqual([2n ** 62n, -3n])
    expect(text).toContain('"4611686018427387904"')
  })
})
