import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import type { InferenceRecord } from '../precompiles/records.ts'

/** An inference record with the transaction it belongs to, as stored with its block. */
export interface BlockInferenceRecord extends InferenceRecord {
  txHash: string
  /** Position of the transaction in its block. */
  txIndex: number
}

/** Meta-sublevel key of a block's inference records: 'i' + block hash. */
export function inferenceRecordsKey(blockHash: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([0x69]), blockHash)
}

const h = (s: string) => hexToBytes(s as `0x${string}`)
const n = (v: bigint | number) => bigIntToUnpaddedBytes(BigInt(v))

export function encodeInferenceRecords(records: BlockInferenceRecord[]): Uint8Array {
  return RLP.encode(
    records.map((r) => [
      h(r.txHash),
      n(r.txIndex),
      n(r.index),
      h(r.modelId),
      h(r.inputHash),
      h(r.outputHash),
      n(r.flops),
      n(r.gasUsed),
    ]),
  )
}

export function decodeInferenceRecords(bytes: Uint8Array): BlockInferenceRecord[] {
  return (RLP.decode(bytes) as unknown as Uint8Array[][]).map((f) => ({
    txHash: bytesToHex(f[0]),
    txIndex: Number(bytesToBigInt(f[1])),
    index: Number(bytesToBigInt(f[2])),
    modelId: bytesToHex(f[3]),
    inputHash: bytesToHex(f[4]),
    outputHash: bytesToHex(f[5]),
    flops: bytesToBigInt(f[6]),
    gasUsed: bytesToBigInt(f[7]),
  }))
}
