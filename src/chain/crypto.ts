import { createRequire } from 'node:module'
import type { CustomCrypto } from '@ethereumjs/common'
import { calculateSigRecovery, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { LatticeError } from '../errors.ts'

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

/**
 * Native libsecp256k1 / keccak for signature recovery and hashing: ecrecover in pure JS costs about
 * 1.5 ms, which dominated block production. Both libraries compute the same values as the JS
 * versions (same curve, same hash); where no native build loads, ethereumjs' defaults are used.
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
  if (keccak) {
    out.keccak256 = (msg) => {
      const d = keccak('keccak256')
        .update(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength))
        .digest()
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
    }
  }
  return out
}
