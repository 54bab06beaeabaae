// patches/ethereumjs-mpt-*-lazy-debug.patch: every MerklePatriciaTrie (a block builds ~10: its transactions,
// receipts and withdrawals tries and one per storage trie touched) created a `debug` logger, whose colour check
// calls isatty, even with debugging off. Now only with DEBUG=ethjs.
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { afterEach, describe, expect, it } from 'vitest'

const saved = process.env.DEBUG
afterEach(() => {
  if (saved === undefined) delete process.env.DEBUG
  else process.env.DEBUG = saved
})

describe('mpt lazy-debug patch', () => {
  it('creates no logger with debugging off, and one with DEBUG=ethjs', () => {
    delete process.env.DEBUG
    expect((new MerklePatriciaTrie() as unknown as { _debug: unknown })._debug).toBeUndefined()
    process.env.DEBUG = 'ethjs'
    expect(typeof (new MerklePatriciaTrie() as unknown as { _debug: unknown })._debug).toBe('function')
  })
})
