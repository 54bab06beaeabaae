import { beforeAll, describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { buildModel, ElemType } from '../../src/inference/builder.ts'
import { TensorError } from '../../src/inference/errors.ts'
import { createConsensusSession, type OnnxSession } from '../../src/inference/onnx.ts'
import { DType, fixedCode, type Tensor, tensorFromValues } from '../../src/inference/tensor.ts'
import { validateInputs } from '../../src/inference/validate.ts'

// a two-input model: a float32[1,4] (static), b int64[N] (dynamic)
const twoInputs = buildModel({
  inputs: [
    { name: 'a', elemType: ElemType.float32, shape: [1, 4] },
    { name: 'b', elemType: ElemType.int64, shape: ['N'] },
  ],
  outputs: [
    { name: 'y', elemType: ElemType.float32, shape: [1, 4] },
    { name: 'n', elemType: ElemType.int64, shape: ['N'] },
  ],
  nodes: [
    { op: 'Identity', inputs: ['a'], outputs: ['y'] },
    { op: 'Identity', inputs: ['b'], outputs: ['n'] },
  ],
})

const a = (shape = [1, 4]): Tensor =>
  tensorFromValues('a', DType.float32, shape, new Array(shape.reduce((x, y) => x * y, 1)).fill(0.5))
const b = tensorFromValues('b', DType.int64, [3], [1, 2, 3])

describe('input validation (errors name the input)', () => {
  let s: OnnxSession
  beforeAll(async () => {
    s = await createConsensusSession({ model: twoInputs })
  })
  const rejects = async (tensors: Tensor[], msg: string, code: string): Promise<void> => {
    const err = await s.run(tensors).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TensorError)
    expect((err as TensorError).code).toBe(code)
    expect((err as Error).message).toBe(msg)
  }

  it('accepts valid inputs', async () => {
    const [y, n] = await s.run([a(), b])
    expect(y.shape).toEqual([1, 4])
    expect(n.shape).toEqual([3])
  })
  it('unknown name', () =>
    rejects(
      [a(), b, { ...b, name: 'c' }],
      'input "c" is not an input of the model (inputs: a, b)',
      'TENSOR_UNKNOWN_INPUT',
    ))
  it('missing name', () => rejects([a()], 'input "b" is missing', 'TENSOR_MISSING_INPUT'))
  it('duplicate name', () => rejects([a(), b, b], 'input "b" is given more than once', 'TENSOR_DUPLICATE_INPUT'))
  it('wrong dtype', () =>
    rejects(
      [a(), tensorFromValues('b', DType.int32, [3], [1, 2, 3])],
      'input "b" has dtype int32 but the model needs int64',
      'TENSOR_DTYPE_MISMATCH',
    ))
  it('wrong rank', () =>
    rejects(
      [a([4]), b],
      'input "a" has rank 1 (shape [4]) but the model needs rank 2 (shape [1,4])',
      'TENSOR_RANK_MISMATCH',
    ))
  it('static dimension mismatch', () =>
    rejects([a([1, 3]), b], 'input "a" has shape [1,3] but the model needs [1,4]', 'TENSOR_SHAPE_MISMATCH'))
  it('data length does not match the shape', () =>
    rejects(
      [{ ...a(), data: new Uint8Array(15) }, b],
      'tensor "a" has 15 bytes of data but shape [1,4] of float32 needs 16',
      'TENSOR_DATA_LENGTH',
    ))
  it('invalid shape', () =>
    rejects(
      [{ ...a(), shape: [1, 4.5] }, b],
      'tensor "a" has invalid shape [1,4.5]: dimension 4.5 is not a non-negative integer',
      'TENSOR_INVALID_SHAPE',
    ))
  it('unsupported dtype code', () =>
    rejects([{ ...a(), dtype: 11 }, b], 'tensor "a" has unsupported dtype 11', 'TENSOR_UNSUPPORTED_DTYPE'))

  it('a named dynamic dimension must agree across inputs', () => {
    const spec = [
      { name: 'a', dtype: 'float32', shape: ['N', 2] as (number | string)[] },
      { name: 'b', dtype: 'int64', shape: ['N'] as (number | string)[] },
    ]
    const a2 = tensorFromValues('a', DType.float32, [2, 2], [1, 2, 3, 4])
    expect(() => validateInputs([a2, b], spec)).toThrow('input "b" has shape [3] but dimension "N" is 2 in input "a"')
    expect(() => validateInputs([a2, tensorFromValues('b', DType.int64, [2], [1, 2])], spec)).not.toThrow()
  })

  it('size limits: elements, bytes, rank, tensor count', () => {
    const spec = [{ name: 'b', dtype: 'int64', shape: ['N'] as (number | string)[] }]
    const limits = { maxRank: 2, maxElements: 2, maxBytes: 1 << 20, maxTensors: 1 }
    expect(() => validateInputs([b], spec, limits)).toThrow('tensor "b" has 3 elements, over the limit of 2')
    expect(() => validateInputs([b], spec, { ...limits, maxElements: 10, maxBytes: 16 })).toThrow(
      'tensor "b" has 24 bytes, over the limit of 16',
    )
    const deep = tensorFromValues('b', DType.int64, [1, 1, 1], [1])
    expect(() => validateInputs([deep], spec, { ...limits, maxElements: 10 })).toThrow(
      'tensor "b" has 3 dimensions, over the limit of 2',
    )
    expect(() => validateInputs([b, b], spec, { ...limits, maxElements: 10 })).toThrow(
      'tensor "b" has 2 tensors in the call, over the limit of 1',
    )
  })

  it('accepts a fixed-point tensor for a float input and converts it', async () => {
    const iris = await createConsensusSession({ model: buildIrisModel() })
    // 5.1, 3.5, 1.4, 0.2 with 2 decimals
    const x = tensorFromValues('x', fixedCode(2), [1, 4], [510n, 350n, 140n, 20n])
    const [probs, cls] = await iris.run([x], { outputDecimals: 6 })
    expect(cls.dtype).toBe(DType.int64)
    expect(probs.dtype).toBe(fixedCode(6))
    expect(probs.data.byteLength).toBe(3 * 32)
    await expect(
      iris.run([tensorFromValues('x', fixedCode(2), [1, 4], [1n, 2n, 3n, 4n])], { outputDecimals: 78 }),
    ).rejects.toThrow('outside 0..77')
  })
})
