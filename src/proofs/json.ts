// The JSON shape of an inference proof (lattice_getInferenceProof, `lattice proof get`), and its parser.
import type { RootSignature } from './attestation.ts'
import { InvalidProofError } from './errors.ts'
import type { ProofRecord } from './merkle.ts'

/** An inference proof as served and printed: quantities as 0x-hex, hashes as 0x-hex words. */
export interface InferenceProofJson {
  record: {
    chainId: string
    blockNumber: string
    txHash: string
    index: string
    modelId: string
    inputHash: string
    outputHash: string
    flops: string
  }
  proof: string[]
  root: string
  blockNumber: string
  blockHash: string
  signatures: RootSignature[]
}

const WORD = /^0x[0-9a-fA-F]{64}$/
const QUANTITY = /^0x[0-9a-fA-F]+$/

/** Check and return a proof parsed from JSON. */
export function parseInferenceProof(v: unknown): InferenceProofJson {
  const p = v as InferenceProofJson
  if (typeof p !== 'object' || p === null || typeof p.record !== 'object' || p.record === null) {
    throw new InvalidProofError('not an inference proof: no "record" object (get one with `lattice proof get`)')
  }
  for (const k of ['txHash', 'modelId', 'inputHash', 'outputHash'] as const) {
    if (!WORD.test(String(p.record[k])))
      throw new InvalidProofError(`record.${k} is not a 32-byte hex word: ${p.record[k]}`)
  }
  for (const k of ['chainId', 'blockNumber', 'index', 'flops'] as const) {
    if (!QUANTITY.test(String(p.record[k])))
      throw new InvalidProofError(`record.${k} is not a hex quantity: ${p.record[k]}`)
  }
  if (!Array.isArray(p.proof) || p.proof.some((w) => !WORD.test(String(w)))) {
    throw new InvalidProofError('"proof" is not a list of 32-byte hex words')
  }
  if (!WORD.test(String(p.root))) throw new InvalidProofError(`"root" is not a 32-byte hex word: ${p.root}`)
  if (!WORD.test(String(p.blockHash)))
    throw new InvalidProofError(`"blockHash" is not a 32-byte hex word: ${p.blockHash}`)
  if (!Array.isArray(p.signatures)) throw new InvalidProofError('"signatures" is not a list')
  return p
}

/** The record as the Merkle tree sees it. */
export function proofRecordOf(p: InferenceProofJson): ProofRecord {
  const r = p.record
  return {
    chainId: BigInt(r.chainId),
    blockNumber: BigInt(r.blockNumber),
    txHash: r.txHash,
    index: Number(BigInt(r.index)),
    modelId: r.modelId,
    inputHash: r.inputHash,
    outputHash: r.outputHash,
    flops: BigInt(r.flops),
  }
}

/** The record as a Solidity `Record` tuple (InferenceVerifier, LatticeInferenceLightVerifier). */
export function recordTuple(p: InferenceProofJson): [bigint, bigint, string, bigint, string, string, string, bigint] {
  const r = proofRecordOf(p)
  return [r.chainId, r.blockNumber, r.txHash, BigInt(r.index), r.modelId, r.inputHash, r.outputHash, r.flops]
}
