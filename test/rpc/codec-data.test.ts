// JSON-RPC DATA values (src/rpc/codec.ts `data`, `hexOf`): the native hex path decodes and encodes exactly what
// @ethereumjs/util does, refuses every malformed value with the same -32602 messages, and hands back bytes of
// their own rather than views into Node's shared Buffer pool.
import { randomBytes } from 'node:crypto'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { data, hexOf } from '../../src/rpc/codec.ts'

describe('JSON-RPC data values', () => {
  it('decode and encode as @ethereumjs/util does, at every size', () => {
    for (const n of [0, 1, 2, 19, 20, 31, 32, 33, 4095, 4096, 8193, 111_000]) {
      const bytes = new Uint8Array(randomBytes(n))
      const hex = bytesToHex(bytes)
      expect(hexOf(bytes)).toBe(hex)
      expect(data(hex, 'x')).toEqual(hexToBytes(hex))
      expect(data(hex.toUpperCase().replace('0X', '0x'), 'x')).toEqual(bytes)
    }
    // a view into a larger buffer encodes only its own bytes
    const big = new Uint8Array(randomBytes(64))
    expect(hexOf(big.subarray(8, 24))).toBe(bytesToHex(big.subarray(8, 24)))
  })

  it('returns bytes of their own, not a view into the shared 8 KiB pool', () => {
    const out = data('0xdeadbeef', 'x')
    expect(out.byteOffset).toBe(0)
    expect(out.buffer.byteLength).toBe(4)
    expect(Buffer.isBuffer(out)).toBe(false)
  })

  it('refuses malformed values with the messages clients see', () => {
    const refused = (v: unknown) => {
      try {
        data(v, 'input')
      } catch (err) {
        return { code: (err as { rpcCode: number }).rpcCode, message: (err as Error).message }
      }
      return undefined
    }
    for (const v of [
      '0xzz',
      '0x0g',
      '0xabcg',
      `0x${'ab'.repeat(5000)}g0`,
      'ab',
      '0Xab',
      'x0ab',
      '0x ab',
      12,
      null,
      {},
    ]) {
      const r = refused(v)
      expect(r, String(v)).toBeDefined()
      expect(r?.code).toBe(-32602)
      expect(r?.message).toMatch(/invalid argument input: expected 0x-prefixed hex data/)
    }
    expect(refused('0xabc')?.message).toMatch(/invalid argument input: hex string has odd length/)
    expect(() => data('0xabcd', 'to', 20)).toThrow(/invalid argument to: expected 20 bytes, got 2/)
  })
})
