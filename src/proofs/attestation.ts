// EIP-712 attestations of inference roots: validators sign
//   InferenceRoot(uint256 chainId,uint256 blockNumber,bytes32 blockHash,bytes32 inferenceRoot)
// under the domain EIP712Domain(string name,string version,uint256 chainId) = ("Lattice", "1", chainId), with the
// Lattice chain id in both places. No verifyingContract: one signature serves every light verifier deployment.
import { RLP } from '@ethereumjs/rlp'
import {
  bigIntToBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  hexToBytes,
  publicToAddress,
  setLengthLeft,
  utf8ToBytes,
} from '@ethereumjs/util'
import { secp256k1 } from 'ethereum-cryptography/secp256k1.js'
import { InvalidSignerKeyError } from './errors.ts'
import { keccak256 } from './keccak.ts'
import { signDigest } from './root-signer.ts'

export const EIP712_NAME = 'Lattice'
export const EIP712_VERSION = '1'
export const DOMAIN_TYPE = 'EIP712Domain(string name,string version,uint256 chainId)'
export const INFERENCE_ROOT_TYPE =
  'InferenceRoot(uint256 chainId,uint256 blockNumber,bytes32 blockHash,bytes32 inferenceRoot)'

/** What validators sign for one block. */
export interface InferenceRootMessage {
  chainId: bigint
  blockNumber: bigint
  blockHash: string
  inferenceRoot: string
}

/** One validator's signature of a block's inference root. */
export interface RootSignature {
  /** Checksum-free lower-case address of the signer. */
  signer: string
  /** 65 bytes r || s || v (v = 27 or 28), 0x-hex. */
  signature: string
}

const word = (v: bigint) => setLengthLeft(bigIntToBytes(v), 32)
const b32 = (h: string) => setLengthLeft(hexToBytes(h as `0x${string}`), 32)

// the constant parts of every digest, hashed once (they were four of the six hashes of each signature)
const DOMAIN_PREFIX = concatBytes(
  keccak256(utf8ToBytes(DOMAIN_TYPE)),
  keccak256(utf8ToBytes(EIP712_NAME)),
  keccak256(utf8ToBytes(EIP712_VERSION)),
)
const INFERENCE_ROOT_TYPEHASH = keccak256(utf8ToBytes(INFERENCE_ROOT_TYPE))
// a node signs for one chain; a few entries cover tests that sign for several
const separators = new Map<bigint, Uint8Array>()

/** The EIP-712 domain separator for a Lattice chain. */
export function domainSeparator(chainId: bigint): Uint8Array {
  let s = separators.get(chainId)
  if (!s) {
    s = keccak256(concatBytes(DOMAIN_PREFIX, word(chainId)))
    if (separators.size >= 16) separators.clear()
    separators.set(chainId, s)
  }
  // a copy: callers may write into what they are given
  return s.slice()
}

/** The EIP-712 digest validators sign. */
export function inferenceRootDigest(m: InferenceRootMessage): Uint8Array {
  const struct = keccak256(
    concatBytes(INFERENCE_ROOT_TYPEHASH, word(m.chainId), word(m.blockNumber), b32(m.blockHash), b32(m.inferenceRoot)),
  )
  return keccak256(concatBytes(new Uint8Array([0x19, 0x01]), domainSeparator(m.chainId), struct))
}

/** Parse a 0x-hex private key. */
export function parseKey(key: string): Uint8Array {
  const hex = key.startsWith('0x') ? key.slice(2) : key
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new InvalidSignerKeyError()
  return hexToBytes(`0x${hex}`)
}

/** Lower-case address of a private key. */
export function keyAddress(key: Uint8Array): string {
  return bytesToHex(publicToAddress(secp256k1.getPublicKey(key, false).slice(1)))
}

/** Sign a block's inference root (low-s, v = 27/28, as ecrecover wants). */
export function signInferenceRoot(
  m: InferenceRootMessage,
  key: Uint8Array,
  signer: string = keyAddress(key),
): RootSignature {
  return { signer, signature: bytesToHex(signDigest(inferenceRootDigest(m), key)) }
}

/** The address that signed `m` with `signature`, or undefined for a malformed signature. */
export function recoverSigner(m: InferenceRootMessage, signature: string): string | undefined {
  try {
    const b = hexToBytes(signature as `0x${string}`)
    if (b.length !== 65 || (b[64] !== 27 && b[64] !== 28)) return undefined
    const sig = new secp256k1.Signature(bytesToBigInt(b.slice(0, 32)), bytesToBigInt(b.slice(32, 64))).addRecoveryBit(
      b[64] - 27,
    )
    const pub = sig.recoverPublicKey(inferenceRootDigest(m)).toRawBytes(false)
    return bytesToHex(publicToAddress(pub.slice(1)))
  } catch {
    return undefined
  }
}

/** A stored attestation: the message and every signature collected for it. */
export interface StoredAttestation {
  inferenceRoot: string
  signatures: RootSignature[]
}

/** RLP [root, [[signer, signature], ...]]. */
export function encodeAttestation(a: StoredAttestation): Uint8Array {
  return RLP.encode([
    hexToBytes(a.inferenceRoot as `0x${string}`),
    a.signatures.map((s) => [hexToBytes(s.signer as `0x${string}`), hexToBytes(s.signature as `0x${string}`)]),
  ])
}

export function decodeAttestation(bytes: Uint8Array): StoredAttestation {
  const [root, sigs] = RLP.decode(bytes) as unknown as [Uint8Array, Uint8Array[][]]
  return {
    inferenceRoot: bytesToHex(root),
    signatures: sigs.map(([signer, signature]) => ({ signer: bytesToHex(signer), signature: bytesToHex(signature) })),
  }
}

/** Meta-sublevel key of a block's attestation: 'a' + block hash. */
export function attestationKey(blockHash: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([0x61]), blockHash)
}

/** Signatures a light verifier asks for by default: more than two thirds of `validators`. */
export function defaultThreshold(validators: number): number {
  return Math.floor((2 * validators) / 3) + 1
}
