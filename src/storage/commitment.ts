// The storage commitment: a keccak256 Merkle root over 1 KiB leaves of a package's files concatenated in
// manifest order. Built for Solidity verification: keccak256 only, positional pairs, fixed depth.
//
//   leaf_i  = keccak256(0x00 || bytes[i*1024 : (i+1)*1024])    (the last leaf may be shorter, never padded)
//   node    = keccak256(0x01 || left || right)                  (left = even index; positional, not sorted)
//   padding = the leaf count is padded to the next power of two with bytes32(0) leaves, so every proof has
//             depth = ceil(log2(leafCount)) and the verifier needs only (index, leaf bytes, siblings)
//   one leaf: root = leaf_0; zero bytes: no commitment (packages are never empty)
import { createKeccak, type IHasher } from 'hash-wasm'
import { InvalidStorageOptionError } from './errors.ts'

export const COMMITMENT_ALGORITHM = 'keccak256-merkle-1k/1'
export const LEAF_SIZE = 1024

const LEAF_PREFIX = new Uint8Array([0x00])
const NODE_PREFIX = new Uint8Array([0x01])
const ZERO = new Uint8Array(32)

let shared: Promise<IHasher> | undefined
function hasher(): Promise<IHasher> {
  shared ??= createKeccak(256)
  return shared
}

/** keccak256 of the concatenation of `parts`, with a caller-owned hasher. */
function keccak(h: IHasher, ...parts: Uint8Array[]): Uint8Array {
  h.init()
  for (const p of parts) h.update(p)
  return h.digest('binary')
}

/** What a package records about its commitment. */
export interface Commitment {
  algorithm: typeof COMMITMENT_ALGORITHM
  /** 0x-prefixed 32-byte root. */
  root: string
  leafSize: number
  leaves: number
  bytes: number
}

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

/** Streaming builder: O(log n) memory, one pass over the bytes. */
export class CommitmentBuilder {
  readonly #h: IHasher
  readonly #pending = new Uint8Array(LEAF_SIZE)
  #fill = 0
  #leaves = 0
  #bytes = 0
  /** levels[k] = a completed left subtree of 2^k leaves waiting for its right sibling. */
  readonly #levels: (Uint8Array | undefined)[] = []
  /** Leaf hashes, kept only when a proof will be built. */
  readonly leafHashes: Uint8Array[] | undefined

  private constructor(h: IHasher, keepLeaves: boolean) {
    this.#h = h
    this.leafHashes = keepLeaves ? [] : undefined
  }

  /** A fresh builder; `keepLeaves` keeps every leaf hash (32 B per KiB) for proof generation. */
  static async create(opts: { keepLeaves?: boolean } = {}): Promise<CommitmentBuilder> {
    // each builder owns a hasher instance: concurrent builders must not interleave init/update/digest
    return new CommitmentBuilder(await createKeccak(256), Boolean(opts.keepLeaves))
  }

  update(bytes: Uint8Array): void {
    let off = 0
    this.#bytes += bytes.byteLength
    if (this.#fill > 0) {
      const n = Math.min(LEAF_SIZE - this.#fill, bytes.byteLength)
      this.#pending.set(bytes.subarray(0, n), this.#fill)
      this.#fill += n
      off = n
      if (this.#fill === LEAF_SIZE) {
        this.#pushLeaf(this.#pending)
        this.#fill = 0
      }
    }
    while (bytes.byteLength - off >= LEAF_SIZE) {
      this.#pushLeaf(bytes.subarray(off, off + LEAF_SIZE))
      off += LEAF_SIZE
    }
    if (off < bytes.byteLength) {
      this.#pending.set(bytes.subarray(off), 0)
      this.#fill = bytes.byteLength - off
    }
  }

  #pushLeaf(chunk: Uint8Array): void {
    let h = keccak(this.#h, LEAF_PREFIX, chunk)
    this.leafHashes?.push(h)
    this.#leaves++
    let k = 0
    while (this.#levels[k]) {
      h = keccak(this.#h, NODE_PREFIX, this.#levels[k]!, h)
      this.#levels[k] = undefined
      k++
    }
    this.#levels[k] = h
  }

  /** Finish; the builder must not be used afterwards. */
  digest(): Commitment {
    if (this.#fill > 0) {
      this.#pushLeaf(this.#pending.subarray(0, this.#fill))
      this.#fill = 0
    }
    if (this.#leaves === 0) throw new InvalidStorageOptionError('commitment input', 0, 'at least one byte')
    const depth = treeDepth(this.#leaves)
    const zeros = zeroHashes(this.#h, depth)
    let carry: Uint8Array | undefined
    for (let k = 0; k < depth; k++) {
      const left = this.#levels[k]
      if (left) carry = keccak(this.#h, NODE_PREFIX, left, carry ?? zeros[k])
      else if (carry) carry = keccak(this.#h, NODE_PREFIX, carry, zeros[k])
    }
    const root = carry ?? this.#levels[depth]!
    return {
      algorithm: COMMITMENT_ALGORITHM,
      root: hex(root),
      leafSize: LEAF_SIZE,
      leaves: this.#leaves,
      bytes: this.#bytes,
    }
  }
}

/** ceil(log2(leaves)); 0 for one leaf. */
export function treeDepth(leaves: number): number {
  let d = 0
  while (2 ** d < leaves) d++
  return d
}

function zeroHashes(h: IHasher, depth: number): Uint8Array[] {
  const z: Uint8Array[] = [ZERO]
  for (let k = 1; k <= depth; k++) z.push(keccak(h, NODE_PREFIX, z[k - 1], z[k - 1]))
  return z
}

/** Commitment over a stream of bytes (the package files concatenated). */
export async function computeCommitment(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Commitment> {
  const b = await CommitmentBuilder.create()
  for await (const c of chunks) b.update(c)
  return b.digest()
}

/** A Merkle path for one leaf: what a Solidity verifier takes. */
export interface CommitmentProof {
  index: number
  /** Sibling hashes bottom-up, 0x-prefixed. */
  siblings: string[]
}

/** The proof for leaf `index`, from all leaf hashes (CommitmentBuilder with keepLeaves). */
export async function commitmentProof(leafHashes: Uint8Array[], index: number): Promise<CommitmentProof> {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new InvalidStorageOptionError('leaf index', index, `0..${leafHashes.length - 1}`)
  }
  const h = await createKeccak(256)
  const depth = treeDepth(leafHashes.length)
  const zeros = zeroHashes(h, depth)
  let level = leafHashes
  let i = index
  const siblings: string[] = []
  for (let k = 0; k < depth; k++) {
    const sib = level[i ^ 1] ?? zeros[k]
    siblings.push(hex(sib))
    const next: Uint8Array[] = []
    for (let j = 0; j < level.length; j += 2) next.push(keccak(h, NODE_PREFIX, level[j], level[j + 1] ?? zeros[k]))
    level = next
    i >>= 1
  }
  return { index, siblings }
}

/** Check a leaf's bytes and path against a root (the same steps a Solidity verifier performs). */
export async function verifyCommitmentProof(root: string, leaf: Uint8Array, proof: CommitmentProof): Promise<boolean> {
  const h = await hasher()
  let acc = keccak(h, LEAF_PREFIX, leaf)
  let i = proof.index
  for (const s of proof.siblings) {
    const sib = Buffer.from(s.slice(2), 'hex')
    acc = i & 1 ? keccak(h, NODE_PREFIX, sib, acc) : keccak(h, NODE_PREFIX, acc, sib)
    i >>= 1
  }
  return hex(acc) === root.toLowerCase()
}
