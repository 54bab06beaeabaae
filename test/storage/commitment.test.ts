import { randomBytes } from 'node:crypto'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { describe, expect, it } from 'vitest'
import {
  CommitmentBuilder,
  commitmentProof,
  computeCommitment,
  LEAF_SIZE,
  verifyCommitmentProof,
} from '../../src/storage/commitment.ts'

/** Reference: whole tree in memory, with a second keccak implementation (ethereum-cryptography). */
function referenceRoot(data: Uint8Array): string {
  const cat = (...p: Uint8Array[]) => Buffer.concat(p)
  let level: Uint8Array[] = []
  for (let o = 0; o < data.length; o += LEAF_SIZE)
    level.push(keccak256(cat(Buffer.from([0]), data.subarray(o, o + LEAF_SIZE))))
  let n = 1
  while (n < level.length) n *= 2
  while (level.length < n) level.push(new Uint8Array(32))
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) next.push(keccak256(cat(Buffer.from([1]), level[i], level[i + 1])))
    level = next
  }
  return `0x${Buffer.from(level[0]).toString('hex')}`
}

describe('storage commitment (keccak256 Merkle over 1 KiB leaves)', () => {
  const sizes = [1, 1023, 1024, 1025, 2048, 3 * 1024, 5 * 1024 + 7, 64 * 1024 + 1]
  it.each(sizes)('matches the reference tree for %i bytes, however the input is chunked', async (size) => {
    const data = randomBytes(size)
    const expected = referenceRoot(data)
    expect((await computeCommitment([data])).root).toBe(expected)
    const pieces: Uint8Array[] = []
    for (let o = 0; o < size; ) {
      const n = 1 + Math.floor(Math.random() * 1500)
      pieces.push(data.subarray(o, o + n))
      o += n
    }
    const c = await computeCommitment(pieces)
    expect(c).toEqual({
      algorithm: 'keccak256-merkle-1k/1',
      root: expected,
      leafSize: 1024,
      leaves: Math.ceil(size / 1024),
      bytes: size,
    })
  })

  it('one leaf: the root is the leaf hash', async () => {
    const data = Buffer.from('abc')
    expect((await computeCommitment([data])).root).toBe(
      `0x${Buffer.from(keccak256(Buffer.concat([Buffer.from([0]), data]))).toString('hex')}`,
    )
  })

  it('refuses empty input', async () => {
    await expect(computeCommitment([])).rejects.toThrow(/at least one byte/)
  })

  it('proofs verify for every leaf and fail for a tampered leaf or wrong index', async () => {
    const data = randomBytes(5 * 1024 + 100) // 6 leaves, padded to 8
    const b = await CommitmentBuilder.create({ keepLeaves: true })
    b.update(data)
    const { root } = b.digest()
    for (let i = 0; i < 6; i++) {
      const leaf = data.subarray(i * 1024, (i + 1) * 1024)
      const proof = await commitmentProof(b.leafHashes!, i)
      expect(proof.siblings).toHaveLength(3)
      expect(await verifyCommitmentProof(root, leaf, proof)).toBe(true)
      const bad = Buffer.from(leaf)
      bad[0] ^= 1
      expect(await verifyCommitmentProof(root, bad, proof)).toBe(false)
      expect(await verifyCommitmentProof(root, leaf, { ...proof, index: i ^ 1 })).toBe(false)
    }
  })
})
