// A strict, allocation-light ABI codec for the precompile's three signatures. General-purpose ABI
// libraries round-trip `bytes` through hex strings, which made decoding a 200 KB tensor take seconds.
// Every rule here follows the Solidity ABI spec; anything out of bounds or non-canonical is a revert.
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import type { Tensor } from '../inference/tensor.ts'
import { InferenceRevert } from './errors.ts'

const enc = new TextEncoder()
const utf8 = new TextDecoder('utf-8', { fatal: true })

const selectorOf = (sig: string) => `0x${Buffer.from(keccak256(enc.encode(sig)).subarray(0, 4)).toString('hex')}`
const TENSOR_T = '(string,uint8,uint64[],bytes)'

/** Function selectors of contracts/ILatticeInference.sol. */
export const SELECTORS = {
  infer: selectorOf(`infer(bytes32,${TENSOR_T}[])`),
  inferBatch: selectorOf(`inferBatch(bytes32,${TENSOR_T}[][])`),
  estimate: selectorOf(`estimate(bytes32,${TENSOR_T}[])`),
  withinTolerance: selectorOf(`withinTolerance(${TENSOR_T}[],${TENSOR_T}[],uint32,uint64,bool)`),
} as const

export type Method = keyof typeof SELECTORS

/** Which method `data` calls, or undefined. */
export function methodOf(data: Uint8Array): Method | undefined {
  if (data.length < 4) return undefined
  const sel = `0x${Buffer.from(data.subarray(0, 4)).toString('hex')}`
  return (Object.keys(SELECTORS) as Method[]).find((m) => SELECTORS[m] === sel)
}

/** Most elements in any ABI array we decode (tensors per call, batch items, dimensions). */
const MAX_ARRAY = 4096
const MAX_DIM = 2n ** 32n

class Reader {
  constructor(readonly buf: Uint8Array) {}

  fail(what: string): never {
    throw new InferenceRevert(`malformed calldata: ${what}`)
  }

  /** The 32-byte word at `pos` as a bigint. */
  word(pos: number): bigint {
    if (pos < 0 || pos + 32 > this.buf.length) this.fail(`word at ${pos} is past the end (${this.buf.length} bytes)`)
    let v = 0n
    for (let i = 0; i < 32; i += 8) {
      v = (v << 64n) | Buffer.from(this.buf.buffer, this.buf.byteOffset + pos + i, 8).readBigUInt64BE(0)
    }
    return v
  }

  /** A word that must fit a safe integer (offsets, lengths). */
  small(pos: number, what: string): number {
    const v = this.word(pos)
    if (v > BigInt(this.buf.length)) this.fail(`${what} ${v} is out of range`)
    return Number(v)
  }

  /** Absolute position of a dynamic value whose offset (relative to `base`) is at `pos`. */
  offset(base: number, pos: number, what: string): number {
    const at = base + this.small(pos, `offset of ${what}`)
    if (at > this.buf.length) this.fail(`offset of ${what} points past the end`)
    return at
  }

  /** `bytes` / `string` content at `at` (length word, then data padded to 32). */
  bytes(at: number, what: string): Uint8Array {
    const len = this.small(at, `length of ${what}`)
    const start = at + 32
    if (start + len > this.buf.length) this.fail(`${what} runs past the end`)
    return this.buf.subarray(start, start + len)
  }

  /** A dynamic array's length and the position of its first element head. */
  array(at: number, what: string): { n: number; start: number } {
    const n = this.small(at, `length of ${what}`)
    if (n > MAX_ARRAY) this.fail(`${what} has ${n} elements, the limit is ${MAX_ARRAY}`)
    if (at + 32 + n * 32 > this.buf.length) this.fail(`${what} runs past the end`)
    return { n, start: at + 32 }
  }
}

function readTensor(r: Reader, at: number, where: string): Tensor {
  let name: string
  try {
    name = utf8.decode(r.bytes(r.offset(at, at, `${where} name`), `${where} name`))
  } catch (err) {
    if (err instanceof InferenceRevert) throw err
    r.fail(`${where} name is not valid UTF-8`)
  }
  const dtype = r.word(at + 32)
  if (dtype > 255n) r.fail(`${where} "${name}": dtype ${dtype} does not fit uint8`)
  const shapeAt = r.offset(at, at + 64, `${where} shape`)
  const { n, start } = r.array(shapeAt, `${where} shape`)
  const shape: number[] = []
  for (let i = 0; i < n; i++) {
    const d = r.word(start + i * 32)
    if (d >= 2n ** 64n) r.fail(`${where} "${name}": dimension ${i} does not fit uint64`)
    if (d >= MAX_DIM) throw new InferenceRevert(`${where} "${name}": dimension ${i} is ${d}, over 2^32`)
    shape.push(Number(d))
  }
  // a copy (a plain Uint8Array, even when the calldata is a Buffer): the tensor outlives the calldata
  const data = new Uint8Array(r.bytes(r.offset(at, at + 96, `${where} data`), `${where} data`))
  return { name, dtype: Number(dtype), shape, data }
}

function readTensorArray(r: Reader, at: number, where: string): Tensor[] {
  const { n, start } = r.array(at, `${where} array`)
  const out: Tensor[] = []
  for (let i = 0; i < n; i++) out.push(readTensor(r, r.offset(start, start + i * 32, `${where} ${i}`), where))
  return out
}

function args(data: Uint8Array): { r: Reader; modelId: string; at: number } {
  const r = new Reader(data.subarray(4))
  const modelId = `0x${Buffer.from(r.buf.subarray(0, 32)).toString('hex')}`
  r.word(0)
  return { r, modelId, at: r.offset(0, 32, 'argument 2') }
}

/** Decode `infer` / `estimate` arguments. */
export function decodeInfer(data: Uint8Array): { modelId: string; inputs: Tensor[] } {
  const { r, modelId, at } = args(data)
  return { modelId, inputs: readTensorArray(r, at, 'input') }
}

/** Decode `inferBatch` arguments. */
export function decodeInferBatch(data: Uint8Array): { modelId: string; batch: Tensor[][] } {
  const { r, modelId, at } = args(data)
  const { n, start } = r.array(at, 'batch')
  const batch: Tensor[][] = []
  for (let i = 0; i < n; i++)
    batch.push(readTensorArray(r, r.offset(start, start + i * 32, `batch[${i}]`), `batch[${i}] input`))
  return { modelId, batch }
}

/** `withinTolerance` arguments: the two output sets and the tolerance. */
export interface WithinToleranceArgs {
  claimed: Tensor[]
  expected: Tensor[]
  maxUlp: number
  maxAbsE9: bigint
  sameArgmax: boolean
}

/** Decode `withinTolerance` arguments; a scalar with bits beyond its type is malformed, as Solidity's decoder says. */
export function decodeWithinTolerance(data: Uint8Array): WithinToleranceArgs {
  const r = new Reader(data.subarray(4))
  const claimed = readTensorArray(r, r.offset(0, 0, 'argument 1'), 'claimed')
  const expected = readTensorArray(r, r.offset(0, 32, 'argument 2'), 'expected')
  const maxUlp = r.word(64)
  if (maxUlp >= 2n ** 32n) r.fail(`maxUlp ${maxUlp} does not fit uint32`)
  const maxAbsE9 = r.word(96)
  if (maxAbsE9 >= 2n ** 64n) r.fail(`maxAbsE9 ${maxAbsE9} does not fit uint64`)
  const sameArgmax = r.word(128)
  if (sameArgmax > 1n) r.fail(`sameArgmax ${sameArgmax} is not a bool`)
  return { claimed, expected, maxUlp: Number(maxUlp), maxAbsE9, sameArgmax: sameArgmax === 1n }
}

// ------------------------------------------------------------------------------------------- encoding

const pad32 = (n: number) => Math.ceil(n / 32) * 32

function putWord(out: Uint8Array, pos: number, v: bigint | number): void {
  let x = BigInt(v)
  for (let i = 31; i >= 0 && x > 0n; i--) {
    out[pos + i] = Number(x & 0xffn)
    x >>= 8n
  }
}

/** Encoded size of one tensor tuple (head + tails). */
function tensorSize(t: Tensor, nameBytes: Uint8Array): number {
  return 4 * 32 + (32 + pad32(nameBytes.length)) + (32 + 32 * t.shape.length) + (32 + pad32(t.data.length))
}

function writeTensor(out: Uint8Array, at: number, t: Tensor, nameBytes: Uint8Array): void {
  const nameAt = 4 * 32
  const shapeAt = nameAt + 32 + pad32(nameBytes.length)
  const dataAt = shapeAt + 32 + 32 * t.shape.length
  putWord(out, at, nameAt)
  putWord(out, at + 32, t.dtype)
  putWord(out, at + 64, shapeAt)
  putWord(out, at + 96, dataAt)
  putWord(out, at + nameAt, nameBytes.length)
  out.set(nameBytes, at + nameAt + 32)
  putWord(out, at + shapeAt, t.shape.length)
  for (const [i, d] of t.shape.entries()) putWord(out, at + shapeAt + 32 + 32 * i, d)
  putWord(out, at + dataAt, t.data.length)
  out.set(t.data, at + dataAt + 32)
}

function tensorArraySize(ts: readonly Tensor[], names: Uint8Array[]): number {
  return 32 + 32 * ts.length + ts.reduce((s, t, i) => s + tensorSize(t, names[i]), 0)
}

function writeTensorArray(out: Uint8Array, at: number, ts: readonly Tensor[], names: Uint8Array[]): void {
  putWord(out, at, ts.length)
  let tail = 32 * ts.length
  ts.forEach((t, i) => {
    putWord(out, at + 32 + 32 * i, tail)
    writeTensor(out, at + 32 + tail, t, names[i])
    tail += tensorSize(t, names[i])
  })
}

/** ABI-encode a `Tensor[]` return value. */
export function encodeTensors(tensors: readonly Tensor[]): Uint8Array {
  const names = tensors.map((t) => enc.encode(t.name))
  const out = new Uint8Array(32 + tensorArraySize(tensors, names))
  putWord(out, 0, 32)
  writeTensorArray(out, 32, tensors, names)
  return out
}

/** ABI-encode a `Tensor[][]` return value. */
export function encodeTensorBatch(batch: readonly (readonly Tensor[])[]): Uint8Array {
  const names = batch.map((ts) => ts.map((t) => enc.encode(t.name)))
  const sizes = batch.map((ts, i) => tensorArraySize(ts, names[i]))
  const out = new Uint8Array(32 + 32 + 32 * batch.length + sizes.reduce((a, b) => a + b, 0))
  putWord(out, 0, 32)
  putWord(out, 32, batch.length)
  let tail = 32 * batch.length
  batch.forEach((ts, i) => {
    putWord(out, 64 + 32 * i, tail)
    writeTensorArray(out, 64 + tail, ts, names[i])
    tail += sizes[i]
  })
  return out
}

/** ABI-encode `(uint256 flops, uint256 gas)`. */
export function encodeEstimate(flops: bigint, gas: bigint): Uint8Array {
  const out = new Uint8Array(64)
  putWord(out, 0, flops)
  putWord(out, 32, gas)
  return out
}

/** ABI-encode `(bool ok, uint256 worstUlp, uint256 firstBad)`. */
export function encodeToleranceResult(ok: boolean, worstUlp: number, firstBad: bigint): Uint8Array {
  const out = new Uint8Array(96)
  putWord(out, 0, ok ? 1 : 0)
  putWord(out, 32, worstUlp)
  putWord(out, 64, firstBad)
  return out
}

/** `Error(string)` revert data. */
export function encodeError(message: string): Uint8Array {
  const m = enc.encode(message)
  const out = new Uint8Array(4 + 64 + pad32(m.length))
  out.set([0x08, 0xc3, 0x79, 0xa0])
  putWord(out, 4, 32)
  putWord(out, 36, m.length)
  out.set(m, 68)
  return out
}

/** Tensors as the ethers ABI tuples `(string name, uint8 dtype, uint64[] shape, bytes data)` of ILatticeInference. */
export const abiTensors = (tensors: readonly Tensor[]): [string, number, bigint[], Uint8Array][] =>
  tensors.map((t) => [t.name, t.dtype, t.shape.map(BigInt), t.data])
