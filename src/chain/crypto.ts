import { createRequire } from 'node:module'
import type { CustomCrypto } from '@ethereumjs/common'
import { calculateSigRecovery, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { LatticeError } from '../errors.ts'
import { keccak256 as hasherKeccak256, wasmKeccak } from '../proofs/keccak.ts'

const require = createRequire(import.meta.url)

interface NativeSecp {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
}
type KeccakFactory = (alg: 'keccak256') => { update(d: Buffer): { digest(): Uint8Array } }

function load<T>(name: string): T | undefined {
  try {
    return require(name) as T
  } catch {
    return undefined
  }
}

const secp = load<NativeSecp>('secp256k1')
const keccak = load<KeccakFactory>('keccak')
// hash-wasm's keccak is about 4x faster than the native `keccak` binding for the 32–600 byte inputs of trie
// nodes and keys (0.6 vs 5.3 µs for 32 B: the binding pays for a Buffer and a C++ object per call). The one
// hash-wasm instance is src/proofs/keccak.ts', which the proofs hash with too.
/** keccak-256 with hash-wasm (throws where WebAssembly did not load: check `nativeCrypto().keccak256`). */
export const wasmKeccak256: (msg: Uint8Array) => Uint8Array = wasmKeccak
  ? hasherKeccak256
  : () => {
      throw new LatticeError('CRYPTO_UNAVAILABLE', 'hash-wasm keccak did not load')
    }

/**
 * Native libsecp256k1 for signature recovery and WebAssembly (else native) keccak for hashing: ecrecover
 * in pure JS costs about 1.5 ms, which dominated block production. All compute the same values as the JS
 * versions (same curve, same hash); where neither loads, ethereumjs' defaults are used.
 */
export function nativeCrypto(): CustomCrypto {
  const out: CustomCrypto = {}
  if (secp) {
    out.ecrecover = (msgHash, v, r, s, chainId) => {
      const recovery = calculateSigRecovery(v, chainId)
      if (recovery !== 0n && recovery !== 1n) throw new LatticeError('INVALID_SIGNATURE', 'Invalid signature v value')
      const sig = concatBytes(setLengthLeft(r, 32), setLengthLeft(s, 32))
      try {
        return secp.ecdsaRecover(sig, Number(recovery), msgHash, false).slice(1)
      } catch (err) {
        throw new LatticeError('INVALID_SIGNATURE', `Invalid signature: ${(err as Error).message}`)
      }
    }
  }
  if (wasmKeccak) {
    out.keccak256 = wasmKeccak256
  } else if (keccak) {
    out.keccak256 = (msg) => {
      const d = keccak('keccak256')
        .update(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength))
        .digest()
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
    }
  }
  return out
}
