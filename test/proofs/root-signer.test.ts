import { randomBytes } from 'node:crypto'
import { createBlock } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import { secp256k1 } from 'ethereum-cryptography/secp256k1.js'
import { describe, expect, it } from 'vitest'
import { Attestor } from '../../src/chain/attestor.ts'
import type { Chain } from '../../src/chain/chain.ts'
import { inferenceRootDigest, recoverSigner, signInferenceRoot } from '../../src/proofs/attestation.ts'
import { InvalidSignerKeyError } from '../../src/proofs/errors.ts'
import { jsSignDigest, nativeSigning, signDigest } from '../../src/proofs/root-signer.ts'

const randomKey = () => secp256k1.utils.randomPrivateKey()

describe('root signer', () => {
  it('goes through native libsecp256k1 here (npm ci installs its prebuilt binding)', () => {
    expect(nativeSigning).toBe(true)
  })

  it('signs random digests with random keys byte for byte as the JavaScript signer', () => {
    for (let i = 0; i < 300; i++) {
      const key = randomKey()
      const digest = new Uint8Array(randomBytes(32))
      expect(bytesToHex(signDigest(digest, key))).toBe(bytesToHex(jsSignDigest(digest, key)))
    }
  })

  it('signInferenceRoot matches the JavaScript signer on random messages, and the signer recovers', () => {
    for (let i = 0; i < 100; i++) {
      const key = randomKey()
      const m = {
        chainId: BigInt(1 + (i % 5)) * 1337n,
        blockNumber: BigInt(i * 7919),
        blockHash: bytesToHex(randomBytes(32)),
        inferenceRoot: bytesToHex(randomBytes(32)),
      }
      const want = signInferenceRoot(m, key)
      // signInferenceRoot signs through signDigest: the JavaScript signer is the reference
      expect(bytesToHex(jsSignDigest(inferenceRootDigest(m), key))).toBe(want.signature)
      expect(recoverSigner(m, want.signature)).toBe(want.signer)
    }
  })

  it("gives the attestor's signature of a block as signInferenceRoot does", () => {
    const chain = { chainId: 31337n } as unknown as Chain
    for (let i = 0; i < 20; i++) {
      const key = randomKey()
      const attestor = new Attestor(chain, bytesToHex(key))
      const block = createBlock({ header: { number: BigInt(i + 1), timestamp: BigInt(1_700_000_000 + i) } })
      const root = bytesToHex(randomBytes(32))
      const want = signInferenceRoot(
        { chainId: 31337n, blockNumber: block.header.number, blockHash: bytesToHex(block.hash()), inferenceRoot: root },
        key,
      )
      expect(attestor.sign(block, root)).toEqual(want)
    }
  })

  it('refuses a key outside the curve order', () => {
    const digest = new Uint8Array(32).fill(1)
    expect(() => signDigest(digest, new Uint8Array(32))).toThrow(InvalidSignerKeyError)
    expect(() => signDigest(digest, new Uint8Array(32).fill(0xff))).toThrow(InvalidSignerKeyError)
  })
})
