import { RLP } from '@ethereumjs/rlp'
import { describe, expect, it } from 'vitest'
import { decodeAttestationMessage, encodeAttestationMessage } from '../../src/p2p/attestation-gossip.ts'
import { GossipMessageError } from '../../src/p2p/errors.ts'
import { splitBatch } from '../../src/p2p/tx-gossip.ts'
import { BoundedSet, latticeProtocols } from '../../src/p2p/wire.ts'

const P = '/lattice/test/attestation/1'

describe('gossip messages', () => {
  it('an attestation message round-trips; anything malformed is a GossipMessageError', () => {
    const m = {
      blockHash: `0x${'ab'.repeat(32)}`,
      blockNumber: 7n,
      inferenceRoot: `0x${'cd'.repeat(32)}`,
      signatures: [{ signer: `0x${'11'.repeat(20)}`, signature: `0x${'22'.repeat(65)}` }],
    }
    expect(decodeAttestationMessage(P, encodeAttestationMessage(m))).toEqual(m)
    const bad = [
      new Uint8Array([0xff, 0x01]),
      RLP.encode([new Uint8Array(31), 7n, new Uint8Array(32), []]),
      RLP.encode([new Uint8Array(32), new Uint8Array(9), new Uint8Array(32), []]),
      RLP.encode([new Uint8Array(32), 7n, new Uint8Array(32), [[new Uint8Array(20), new Uint8Array(64)]]]),
      RLP.encode([new Uint8Array(32), 7n, new Uint8Array(32), new Uint8Array(3)]),
      RLP.encode(new Uint8Array(5)),
    ]
    for (const b of bad) expect(() => decodeAttestationMessage(P, b)).toThrow(GossipMessageError)
  })

  it('transaction batches are cut by count and by bytes', () => {
    const raws = [10, 10, 10, 50, 10].map((n) => new Uint8Array(n))
    expect(splitBatch(raws, 2, 1000).map((p) => p.length)).toEqual([2, 2, 1])
    expect(splitBatch(raws, 100, 30).map((p) => p.map((r) => r.length))).toEqual([[10, 10, 10], [50], [10]])
    expect(splitBatch([], 10, 10)).toEqual([])
  })

  it('protocol ids name the genesis; the seen-set forgets its oldest', () => {
    expect(latticeProtocols(`0x${'12'.repeat(32)}`)).toEqual({
      tx: '/lattice/1212121212121212/tx/1',
      attestation: '/lattice/1212121212121212/attestation/1',
    })
    const s = new BoundedSet<number>(2)
    s.add(1)
    s.add(2)
    s.add(3)
    expect([s.has(1), s.has(2), s.has(3)]).toEqual([false, true, true])
  })
})
