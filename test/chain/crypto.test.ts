import { createRequire } from 'node:module'
import { bytesToHex, randomBytes } from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { describe, expect, it } from 'vitest'
import { nativeCrypto, wasmKeccak256 } from '../../src/chain/crypto.ts'
import { createChainCommon, loadChainSpec } from '../../src/chain/genesis.ts'

const require = createRequire(import.meta.url)
const keccakPkg = require('keccak') as (a: 'keccak256') => { update(d: Buffer): { digest(): Buffer } }

describe('hash-wasm keccak', () => {
  it('matches the keccak package and ethereum-cryptography on random inputs', () => {
    // around the 136-byte rate, and long inputs spanning many blocks
    const lengths = [0, 1, 31, 32, 33, 64, 135, 136, 137, 271, 272, 273, 532, 4096, 65_536]
    for (let i = 0; i < 500; i++) lengths.push(Math.floor(Math.random() * 2000))
    for (const n of lengths) {
      const msg = randomBytes(n)
      const want = bytesToHex(keccak256(msg))
      expect(bytesToHex(wasmKeccak256(msg))).toBe(want)
      expect(bytesToHex(keccakPkg('keccak256').update(Buffer.from(msg)).digest())).toBe(want)
    }
  })

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const big = randomBytes(300)
    const view = big.subarray(17, 17 + 100)
    expect(bytesToHex(wasmKeccak256(view))).toBe(bytesToHex(keccak256(view.slice())))
  })

  it('is the keccak the chain Common hands to ethereumjs', () => {
    expect(nativeCrypto().keccak256).toBe(wasmKeccak256)
    const common = createChainCommon(loadChainSpec())
    expect(common.customCrypto.keccak256).toBe(wasmKeccak256)
  })
})
