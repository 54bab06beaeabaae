// keccak-256 for the proofs (EIP-712 digests, inference Merkle trees): hash-wasm where WebAssembly loads, else
// noble's JavaScript (ethereum-cryptography). Same function, same bytes; the JavaScript one costs ~25-40 µs per
// 32-256 byte input under load against ~1-2 µs, and every inference block hashes its records' leaves and nodes
// twice (the attestor, and the next block's inference-root system call) and an EIP-712 digest once.
import { keccak256 as jsKeccak256 } from 'ethereum-cryptography/keccak.js'
import { createKeccak, type IHasher } from 'hash-wasm'

// one instance serves every call: each hash is init/update/digest in one synchronous run, so calls never interleave
const hasher: IHasher | undefined = await createKeccak(256).catch(() => undefined)

/** keccak-256 of `msg` (32 bytes). */
export const keccak256: (msg: Uint8Array) => Uint8Array = hasher
  ? (msg) => {
      hasher.init()
      hasher.update(msg)
      return hasher.digest('binary')
    }
  : jsKeccak256

/** Whether {@link keccak256} runs on WebAssembly (false: the JavaScript fallback). */
export const wasmKeccak = hasher !== undefined
