import { randomBytes } from 'node:crypto'
import { bytesToHex } from '@ethereumjs/util'
import { keccak256 as nobleKeccak256 } from 'ethereum-cryptography/keccak.js'
import { TypedDataEncoder } from 'ethers'
import { describe, expect, it } from 'vitest'
import { domainSeparator, inferenceRootDigest } from '../../src/proofs/attestation.ts'
import { keccak256, wasmKeccak } from '../../src/proofs/keccak.ts'
import { inferenceRoot, leafHash, nodeHash, type ProofRecord } from '../../src/proofs/merkle.ts'

const hex = (b: Uint8Array) => bytesToHex(b)

describe('proofs keccak', () => {
  it('runs on WebAssembly here (hash-wasm loads under Node)', () => {
    expect(wasmKeccak).toBe(true)
  })

  it('equals noble keccak-256 on every length 0..300 and on large inputs (rate 136: block edges)', () => {
    for (let n = 0; n <= 300; n++) {
      const m = new Uint8Array(randomBytes(n))
      expect(hex(keccak256(m))).toBe(hex(nobleKeccak256(m)))
    }
    for (const n of [4096, 65_537, 1 << 20]) {
      const m = new Uint8Array(randomBytes(n))
      expect(hex(keccak256(m))).toBe(hex(nobleKeccak256(m)))
    }
    // a view into a larger buffer hashes only its own bytes
    const big = new Uint8Array(randomBytes(200))
    expect(hex(keccak256(big.subarray(17, 150)))).toBe(hex(nobleKeccak256(big.slice(17, 150))))
  })

  it('each call returns its own bytes (no shared output buffer)', () => {
    const a = keccak256(new Uint8Array([1]))
    const b = keccak256(new Uint8Array([2]))
    expect(hex(a)).toBe(hex(nobleKeccak256(new Uint8Array([1]))))
    expect(hex(a)).not.toBe(hex(b))
  })
})

describe('EIP-712 digest with cached constants', () => {
  const types = {
    InferenceRoot: [
      { name: 'chainId', type: 'uint256' },
      { name: 'blockNumber', type: 'uint256' },
      { name: 'blockHash', type: 'bytes32' },
      { name: 'inferenceRoot', type: 'bytes32' },
    ],
  }

  it('agrees with ethers for chains interleaved (the per-chain separator cache) and random messages', () => {
    for (let i = 0; i < 60; i++) {
      const chainId = [1n, 41232n, 31337n, 2n ** 64n + 5n][i % 4]
      const m = {
        chainId,
        blockNumber: BigInt(i) * 104729n,
        blockHash: hex(randomBytes(32)),
        inferenceRoot: hex(randomBytes(32)),
      }
      const want = TypedDataEncoder.hash({ name: 'Lattice', version: '1', chainId }, types, m)
      expect(hex(inferenceRootDigest(m))).toBe(want)
      expect(hex(domainSeparator(chainId))).toBe(
        TypedDataEncoder.hashDomain({ name: 'Lattice', version: '1', chainId }),
      )
    }
  })

  it('a caller writing into the separator it got does not change later digests', () => {
    const m = { chainId: 41232n, blockNumber: 9n, blockHash: hex(randomBytes(32)), inferenceRoot: hex(randomBytes(32)) }
    const before = hex(inferenceRootDigest(m))
    domainSeparator(41232n).fill(0)
    expect(hex(inferenceRootDigest(m))).toBe(before)
    expect(before).toBe(TypedDataEncoder.hash({ name: 'Lattice', version: '1', chainId: 41232n }, types, m))
  })

  it('the Merkle root equals one folded with noble keccak by hand', () => {
    const records: ProofRecord[] = Array.from({ length: 5 }, (_, i) => ({
      chainId: 41232n,
      blockNumber: 12n,
      txHash: hex(randomBytes(32)),
      index: i,
      modelId: hex(randomBytes(32)),
      inputHash: hex(randomBytes(32)),
      outputHash: hex(randomBytes(32)),
      flops: BigInt(i) * 1000n,
    }))
    const word = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex')
    const b = (h: string) => Buffer.from(h.slice(2), 'hex')
    const leaves = records.map((r) =>
      nobleKeccak256(
        Buffer.concat([
          word(r.chainId),
          word(r.blockNumber),
          b(r.txHash),
          word(BigInt(r.index)),
          b(r.modelId),
          b(r.inputHash),
          b(r.outputHash),
          word(r.flops),
        ]),
      ),
    )
    for (const [i, r] of records.entries()) expect(hex(leafHash(r))).toBe(hex(leaves[i]))
    const node = (x: Uint8Array, y: Uint8Array) =>
      Buffer.compare(Buffer.from(x), Buffer.from(y)) <= 0
        ? nobleKeccak256(Buffer.concat([Buffer.from([1]), x, y]))
        : nobleKeccak256(Buffer.concat([Buffer.from([1]), y, x]))
    // 5 leaves: (01)(23)4 -> ((01)(23)) 4 -> root
    const l1 = [node(leaves[0], leaves[1]), node(leaves[2], leaves[3]), leaves[4]]
    const root = node(node(l1[0], l1[1]), l1[2])
    expect(inferenceRoot(records)).toBe(hex(root))
    expect(hex(nodeHash(leaves[0], leaves[1]))).toBe(hex(node(leaves[0], leaves[1])))
  })
})
