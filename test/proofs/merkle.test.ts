import { AbiCoder, keccak256, TypedDataEncoder, Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import {
  inferenceRootDigest,
  keyAddress,
  parseKey,
  recoverSigner,
  signInferenceRoot,
} from '../../src/proofs/attestation.ts'
import type { ProofRecord } from '../../src/proofs/merkle.ts'
import {
  EMPTY_INFERENCE_ROOT,
  inferenceProof,
  inferenceRoot,
  leafHash,
  verifyInferenceProof,
} from '../../src/proofs/merkle.ts'
import { KEY0, KEY1 } from '../helpers/devnet.ts'

const h = (n: number) => `0x${n.toString(16).padStart(64, '0')}`

function record(i: number): ProofRecord {
  return {
    chainId: 41232n,
    blockNumber: 7n,
    txHash: h(1000 + Math.floor(i / 2)),
    index: i % 2,
    modelId: h(5),
    inputHash: h(2000 + i),
    outputHash: h(3000 + i),
    flops: BigInt(100 + i),
  }
}

describe('inference Merkle tree', () => {
  it('the leaf is keccak256(abi.encode(...)) of the eight fields', () => {
    const r = record(0)
    const want = keccak256(
      AbiCoder.defaultAbiCoder().encode(
        ['uint256', 'uint256', 'bytes32', 'uint256', 'bytes32', 'bytes32', 'bytes32', 'uint256'],
        [r.chainId, r.blockNumber, r.txHash, r.index, r.modelId, r.inputHash, r.outputHash, r.flops],
      ),
    )
    expect(Buffer.from(leafHash(r)).toString('hex')).toBe(want.slice(2))
  })

  it('every leaf of trees of 1..9 records proves against the root; tampering fails', () => {
    expect(inferenceRoot([])).toBe(EMPTY_INFERENCE_ROOT)
    for (let n = 1; n <= 9; n++) {
      const rs = Array.from({ length: n }, (_, i) => record(i))
      const root = inferenceRoot(rs)
      for (let i = 0; i < n; i++) {
        const proof = inferenceProof(rs, i)
        expect(verifyInferenceProof(rs[i], proof, root)).toBe(true)
        expect(verifyInferenceProof({ ...rs[i], flops: rs[i].flops + 1n }, proof, root)).toBe(false)
        if (proof.length > 0) expect(verifyInferenceProof(rs[i], [h(9), ...proof.slice(1)], root)).toBe(false)
      }
    }
    expect(inferenceRoot([record(0)])).toBe(`0x${Buffer.from(leafHash(record(0))).toString('hex')}`)
  })

  it('signatures are EIP-712 (ethers agrees on the digest) and recover to the signer', () => {
    const m = { chainId: 41232n, blockNumber: 7n, blockHash: h(77), inferenceRoot: h(88) }
    const want = TypedDataEncoder.hash(
      { name: 'Lattice', version: '1', chainId: 41232n },
      {
        InferenceRoot: [
          { name: 'chainId', type: 'uint256' },
          { name: 'blockNumber', type: 'uint256' },
          { name: 'blockHash', type: 'bytes32' },
          { name: 'inferenceRoot', type: 'bytes32' },
        ],
      },
      m,
    )
    expect(`0x${Buffer.from(inferenceRootDigest(m)).toString('hex')}`).toBe(want)
    const sig = signInferenceRoot(m, parseKey(KEY0))
    expect(sig.signer).toBe(new Wallet(KEY0).address.toLowerCase())
    expect(keyAddress(parseKey(KEY1))).toBe(new Wallet(KEY1).address.toLowerCase())
    expect(recoverSigner(m, sig.signature)).toBe(sig.signer)
    expect(recoverSigner({ ...m, blockNumber: 8n }, sig.signature)).not.toBe(sig.signer)
  })
})
