// The inference Merkle tree of one block (docs/proofs.md). Built for Solidity verification:
//
//   leaf = keccak256(abi.encode(chainId, blockNumber, txHash, index, modelId, inputHash, outputHash, flops))
//          (eight 32-byte words: uint256, uint256, bytes32, uint256, bytes32, bytes32, bytes32, uint256)
//   node = keccak256(0x01 || min(a, b) || max(a, b))     (sorted pair: the proof needs no leaf position)
//   leaves in block order (transaction index, then the record's index inside its transaction)
//   odd node at the end of a level: promoted unchanged to the next level (never duplicated)
//   one leaf: root = leaf; no records: root = bytes32(0)
//
// Leaves hash 256-byte preimages and inner nodes 65-byte preimages that start with 0x01, so a node can
// never be passed off as a leaf or the other way round.

import { bigIntToBytes, bytesToHex, concatBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { keccak256 } from './keccak.ts'

/** An inference record as its leaf commits to it. */
export interface ProofRecord {
  chainId: bigint
  blockNumber: bigint
  /** 0x-prefixed 32-byte hash of the transaction that ran the inference. */
  txHash: string
  /** Position of the inference inside its transaction. */
  index: number
  modelId: string
  inputHash: string
  outputHash: string
  flops: bigint
}

/** The root of a block without inference records. */
export const EMPTY_INFERENCE_ROOT = `0x${'00'.repeat(32)}`

const NODE_PREFIX = new Uint8Array([0x01])

const word = (v: bigint | number) => setLengthLeft(bigIntToBytes(BigInt(v)), 32)
const b32 = (h: string) => setLengthLeft(hexToBytes(h as `0x${string}`), 32)

/** abi.encode of the record's eight leaf fields. */
export function encodeLeaf(r: ProofRecord): Uint8Array {
  return concatBytes(
    word(r.chainId),
    word(r.blockNumber),
    b32(r.txHash),
    word(r.index),
    b32(r.modelId),
    b32(r.inputHash),
    b32(r.outputHash),
    word(r.flops),
  )
}

/** The leaf hash of a record. */
export function leafHash(r: ProofRecord): Uint8Array {
  return keccak256(encodeLeaf(r))
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

/** Inner node over two children, sorted. */
export function nodeHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compare(a, b) <= 0 ? keccak256(concatBytes(NODE_PREFIX, a, b)) : keccak256(concatBytes(NODE_PREFIX, b, a))
}

/** The tree's levels bottom-up (levels[0] = leaves). */
function levels(leaves: Uint8Array[]): Uint8Array[][] {
  const out = [leaves]
  let level = leaves
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i])
    out.push(next)
    level = next
  }
  return out
}

/** Root over leaf hashes in block order (0x00…00 when there are none). */
export function merkleRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(32)
  const ls = levels(leaves)
  return ls[ls.length - 1][0]
}

/** Root of a block's records, in block order. */
export function inferenceRoot(records: ProofRecord[]): string {
  return bytesToHex(merkleRoot(records.map(leafHash)))
}

/** Sibling path, bottom-up, of leaf `i`; a promoted odd node contributes no sibling at that level. */
export function merkleProof(leaves: Uint8Array[], i: number): Uint8Array[] {
  const proof: Uint8Array[] = []
  let pos = i
  for (const level of levels(leaves)) {
    if (level.length === 1) break
    const sib = pos ^ 1
    if (sib < level.length) proof.push(level[sib])
    pos >>= 1
  }
  return proof
}

/** Proof of `records[i]` against {@link inferenceRoot}(records), as 0x-hex words. */
export function inferenceProof(records: ProofRecord[], i: number): string[] {
  return merkleProof(records.map(leafHash), i).map((p) => bytesToHex(p))
}

/** Fold a proof from a record's leaf; true when it reaches `root`. */
export function verifyInferenceProof(record: ProofRecord, proof: string[], root: string): boolean {
  let h = leafHash(record)
  for (const p of proof) h = nodeHash(h, b32(p))
  return bytesToHex(h) === root.toLowerCase()
}
