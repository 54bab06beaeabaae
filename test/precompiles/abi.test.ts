import { AbiCoder } from 'ethers'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '../../src/inference/tensor.ts'
import {
  decodeInfer,
  decodeInferBatch,
  encodeError,
  encodeTensorBatch,
  encodeTensors,
  SELECTORS,
} from '../../src/precompiles/abi.ts'
import { abiTensor, inferenceAbi } from '../helpers/models.ts'

const coder = AbiCoder.defaultAbiCoder()
const TENSOR = 'tuple(string name, uint8 dtype, uint64[] shape, bytes data)'
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

/** Deterministic pseudo-random tensors of assorted shapes, names and sizes (odd lengths included). */
function tensors(seed: number, count: number): Tensor[] {
  let x = seed
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0
    return x % n
  }
  return Array.from({ length: count }, (_, i) => {
    const shape = Array.from({ length: rnd(4) }, () => rnd(5) + 1)
    const data = new Uint8Array(rnd(100))
    for (let j = 0; j < data.length; j++) data[j] = rnd(256)
    return { name: `t${i}${'é'.repeat(rnd(3))}${'x'.repeat(rnd(40))}`, dtype: rnd(256), shape, data }
  })
}

describe('precompile ABI codec', () => {
  it('selectors match the Solidity interface', () => {
    expect(SELECTORS.infer).toBe(inferenceAbi.getFunction('infer')!.selector)
    expect(SELECTORS.inferBatch).toBe(inferenceAbi.getFunction('inferBatch')!.selector)
    expect(SELECTORS.estimate).toBe(inferenceAbi.getFunction('estimate')!.selector)
  })

  it('encodes Tensor[] and Tensor[][] exactly as a reference ABI coder does', () => {
    for (let seed = 1; seed < 40; seed++) {
      const ts = tensors(seed, seed % 5)
      expect(hex(encodeTensors(ts))).toBe(coder.encode([`${TENSOR}[]`], [ts.map(abiTensor)]))
      const batch = [ts, tensors(seed + 100, 2), []]
      expect(hex(encodeTensorBatch(batch))).toBe(coder.encode([`${TENSOR}[][]`], [batch.map((b) => b.map(abiTensor))]))
    }
  })

  it('decodes what a reference ABI coder encodes', () => {
    const id = `0x${'ab'.repeat(32)}`
    for (let seed = 1; seed < 40; seed++) {
      const ts = tensors(seed, seed % 6)
      const got = decodeInfer(
        Buffer.from(inferenceAbi.encodeFunctionData('infer', [id, ts.map(abiTensor)]).slice(2), 'hex'),
      )
      expect(got.modelId).toBe(id)
      expect(got.inputs).toEqual(ts)
      const batch = [ts, tensors(seed + 7, 3)]
      const gotBatch = decodeInferBatch(
        Buffer.from(
          inferenceAbi.encodeFunctionData('inferBatch', [id, batch.map((b) => b.map(abiTensor))]).slice(2),
          'hex',
        ),
      )
      expect(gotBatch.batch).toEqual(batch)
    }
  })

  it('refuses malformed calldata with a reason, never an exception of another kind', () => {
    const id = `0x${'01'.repeat(32)}`
    const good = Buffer.from(
      inferenceAbi.encodeFunctionData('infer', [id, tensors(3, 2).map(abiTensor)]).slice(2),
      'hex',
    )
    // every truncation: refused, or (cutting only the final padding, as Solidity also accepts) the same values
    const full = decodeInfer(good)
    for (let cut = 4; cut < good.length; cut++) {
      try {
        expect(decodeInfer(good.subarray(0, cut))).toEqual(full)
      } catch (err) {
        expect((err as Error).message).toMatch(/malformed calldata/)
      }
    }
    expect(() => decodeInfer(good.subarray(0, good.length - 64))).toThrow(/malformed calldata/)
    // a flipped byte anywhere: decodes to something or is refused with a reason
    for (let i = 4; i < good.length; i++) {
      const bad = Buffer.from(good)
      bad[i] ^= 0x80
      try {
        decodeInfer(bad)
      } catch (err) {
        expect((err as Error).message).toMatch(/malformed calldata|over 2\^32/)
      }
    }
  })

  it('encodes Error(string) as Solidity does', () => {
    expect(hex(encodeError('unknown model 0x12'))).toBe(
      `0x08c379a0${coder.encode(['string'], ['unknown model 0x12']).slice(2)}`,
    )
  })
})
