import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'

/** One log as stored: [address, topics, data]. */
export type RawLog = [Uint8Array, Uint8Array[], Uint8Array]

/** What the node keeps for every transaction it executed, next to the block. */
export interface StoredReceipt {
  type: number
  status: 0 | 1
  cumulativeGasUsed: bigint
  gasUsed: bigint
  logsBloom: Uint8Array
  logs: RawLog[]
  contractAddress?: Uint8Array
  effectiveGasPrice: bigint
  from: Uint8Array
  /** Post-transaction state root: receipts before Byzantium carry it instead of a status. */
  root?: Uint8Array
}

const num = (b: Uint8Array) => bytesToBigInt(b)

export function encodeReceipts(receipts: StoredReceipt[]): Uint8Array {
  return RLP.encode(
    receipts.map((r) => [
      bigIntToUnpaddedBytes(BigInt(r.type)),
      bigIntToUnpaddedBytes(BigInt(r.status)),
      bigIntToUnpaddedBytes(r.cumulativeGasUsed),
      bigIntToUnpaddedBytes(r.gasUsed),
      r.logsBloom,
      r.logs,
      r.contractAddress ?? new Uint8Array(),
      bigIntToUnpaddedBytes(r.effectiveGasPrice),
      r.from,
      ...(r.root ? [r.root] : []),
    ]),
  )
}

export function decodeReceipts(bytes: Uint8Array): StoredReceipt[] {
  const list = RLP.decode(bytes) as unknown as Uint8Array[][]
  return list.map((f) => ({
    type: Number(num(f[0])),
    status: Number(num(f[1])) as 0 | 1,
    cumulativeGasUsed: num(f[2]),
    gasUsed: num(f[3]),
    logsBloom: f[4],
    logs: f[5] as unknown as RawLog[],
    contractAddress: f[6].length > 0 ? f[6] : undefined,
    effectiveGasPrice: num(f[7]),
    from: f[8],
    root: f[9],
  }))
}

/** Keys of Lattice's own records in the meta sublevel. */
export const metaKeys = {
  receipts: (blockHash: Uint8Array) => concatBytes(hexToBytes('0x72'), blockHash), // 'r'
  txLookup: (txHash: Uint8Array) => concatBytes(hexToBytes('0x74'), txHash), // 't'
}

/** [blockHash, blockNumber, index] of a transaction. */
export function encodeTxLookup(blockHash: Uint8Array, blockNumber: bigint, index: number): Uint8Array {
  return RLP.encode([blockHash, bigIntToUnpaddedBytes(blockNumber), bigIntToUnpaddedBytes(BigInt(index))])
}

export function decodeTxLookup(bytes: Uint8Array): { blockHash: Uint8Array; blockNumber: bigint; index: number } {
  const [h, n, i] = RLP.decode(bytes) as Uint8Array[]
  return { blockHash: h, blockNumber: num(n), index: Number(num(i)) }
}

export const hex = bytesToHex
