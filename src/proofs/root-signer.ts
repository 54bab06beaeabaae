// Signing a 32-byte digest with native libsecp256k1 where it loaded (the `secp256k1` package, already loaded
// for ecrecover in crypto.ts), else with noble (ethereum-cryptography). Both are deterministic (RFC 6979 nonce,
// HMAC-SHA256, no extra entropy) and return low-s signatures, so the bytes are the same either way; the JS
// path costs 3-5 ms per signature under load against ~0.1 ms native, and the attestor signs every block
// that ran an inference.
import { createRequire } from 'node:module'
import { concatBytes } from '@ethereumjs/util'
import { secp256k1 } from 'ethereum-cryptography/secp256k1.js'
import { InvalidSignerKeyError } from './errors.ts'

interface NativeSign {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number }
}

function loadNative(): NativeSign | undefined {
  try {
    // the binding itself: the package's index falls back to `elliptic` in JS, which would gain nothing
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeSign
  } catch {
    return undefined
  }
}

const native = loadNative()

/** Whether signatures go through native libsecp256k1. */
export const nativeSigning = native !== undefined

/** r ‖ s ‖ v (v = 27/28, low-s) of `digest` signed with `key`, as ecrecover and signInferenceRoot want. */
export function signDigest(digest: Uint8Array, key: Uint8Array): Uint8Array {
  if (native) {
    let out: { signature: Uint8Array; recid: number }
    try {
      out = native.ecdsaSign(digest, key)
    } catch {
      // a zero key or one past the curve order: the same refusal as parseKey's
      throw new InvalidSignerKeyError()
    }
    return concatBytes(out.signature, new Uint8Array([27 + out.recid]))
  }
  return jsSignDigest(digest, key)
}

/** The JavaScript signer (noble); what {@link signDigest} must match byte for byte. */
export function jsSignDigest(digest: Uint8Array, key: Uint8Array): Uint8Array {
  const sig = secp256k1.sign(digest, key)
  return concatBytes(sig.toCompactRawBytes(), new Uint8Array([27 + sig.recovery]))
}
