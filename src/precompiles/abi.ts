import { AbiCoder, id } from 'ethers'
import type { Tensor } from '../inference/tensor.ts'
import { InferenceRevert } from './errors.ts'

const TENSOR = 'tuple(string name, uint8 dtype, uint64[] shape, bytes data)'
const coder = AbiCoder.defaultAbiCoder()

/** Function selectors of contracts/ILatticeInference.sol. */
export const SELECTORS = {
  infer: id(`infer(bytes32,(string,uint8,uint64[],bytes)[])`).slice(0, 10),
  inferBatch: id(`inferBatch(bytes32,(string,uint8,uint64[],bytes)[][])`).slice(0, 10),
  estimate: id(`estimate(bytes32,(string,uint8,uint64[],bytes)[])`).slice(0, 10),
} as const

export type Method = keyof typeof SELECTORS

/** Which method `data` calls, or undefined. */
export function methodOf(data: Uint8Array): Method | undefined {
  if (data.length < 4) return undefined
  const sel = `0x${Buffer.from(data.subarray(0, 4)).toString('hex')}`
  return (Object.keys(SELECTORS) as Method[]).find((m) => SELECTORS[m] === sel)
}

const MAX_DIM = 2n ** 32n

function toTensor(raw: any, where: string): Tensor {
  const shape = (raw.shape as bigint[]).map((d, i) => {
    if (d >= MAX_DIM) throw new InferenceRevert(`${where} "${raw.name}": dimension ${i} is ${d}, over 2^32`)
    return Number(d)
  })
  return {
    name: raw.name as string,
    dtype: Number(raw.dtype),
    shape,
    data: new Uint8Array(Buffer.from((raw.data as string).slice(2), 'hex')),
  }
}

function decode(types: string[], data: Uint8Array): any[] {
  try {
    return coder.decode(types, data.subarray(4)) as unknown as any[]
  } catch (err) {
    throw new InferenceRevert(
      `malformed calldata: ${(err as { shortMessage?: string }).shortMessage ?? (err as Error).message}`,
    )
  }
}

/** Decode `infer` / `estimate` arguments. */
export function decodeInfer(data: Uint8Array): { modelId: string; inputs: Tensor[] } {
  const [modelId, inputs] = decode(['bytes32', `${TENSOR}[]`], data)
  return { modelId, inputs: (inputs as any[]).map((t) => toTensor(t, 'input')) }
}

/** Decode `inferBatch` arguments. */
export function decodeInferBatch(data: Uint8Array): { modelId: string; batch: Tensor[][] } {
  const [modelId, batch] = decode(['bytes32', `${TENSOR}[][]`], data)
  return { modelId, batch: (batch as any[][]).map((item, i) => item.map((t) => toTensor(t, `batch[${i}] input`))) }
}

const asAbi = (t: Tensor) => [t.name, t.dtype, t.shape.map(BigInt), t.data]

/** ABI-encode a `Tensor[]` return value. */
export function encodeTensors(tensors: readonly Tensor[]): Uint8Array {
  return hexBytes(coder.encode([`${TENSOR}[]`], [tensors.map(asAbi)]))
}

/** ABI-encode a `Tensor[][]` return value. */
export function encodeTensorBatch(batch: readonly (readonly Tensor[])[]): Uint8Array {
  return hexBytes(coder.encode([`${TENSOR}[][]`], [batch.map((ts) => ts.map(asAbi))]))
}

/** ABI-encode `(uint256 flops, uint256 gas)`. */
export function encodeEstimate(flops: bigint, gas: bigint): Uint8Array {
  return hexBytes(coder.encode(['uint256', 'uint256'], [flops, gas]))
}

/** `Error(string)` revert data. */
export function encodeError(message: string): Uint8Array {
  return hexBytes(`0x08c379a0${coder.encode(['string'], [message]).slice(2)}`)
}

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.slice(2), 'hex'))
}
