// engine_exchangeCapabilities, engine_getClientVersionV1, engine_exchangeTransitionConfigurationV1,
// engine_getPayloadBodiesByHashV1/ByRangeV1, engine_getBlobsV1/V2.
import type { Block } from '@ethereumjs/block'
import { bigIntToHex, bytesToHex } from '@ethereumjs/util'
import { EngineParamsError, TooLargeRequestError } from '../errors.ts'
import { array, data, object, params, quantity } from '../payload.ts'
import type { EngineContext, EngineHandlers } from './context.ts'

/** Most hashes or blocks one getPayloadBodies request may ask for (the specification's 1024). */
const MAX_BODIES = 1024
/** Most versioned hashes one getBlobs request may ask for (the specification's 128). */
const MAX_BLOBS = 128

function body(block: Block | undefined): unknown {
  if (!block) return null
  return {
    transactions: block.transactions.map((tx) => bytesToHex(tx.serialize())),
    withdrawals: block.withdrawals ? block.withdrawals.map((w) => w.toJSON()) : null,
  }
}

/** The misc methods; `served` is the list exchangeCapabilities answers with. */
export function miscMethods(ctx: EngineContext, served: () => string[]): EngineHandlers {
  const chain = ctx.node.chain
  return {
    engine_exchangeCapabilities: async (p) => {
      const [list] = params(p, 'engine_exchangeCapabilities', 1)
      array(list, 'capabilities').forEach((c, i) => {
        if (typeof c !== 'string') throw new EngineParamsError(`invalid capabilities[${i}]: expected a method name`)
      })
      return served()
    },
    engine_getClientVersionV1: async (p) => {
      const [v] = params(p, 'engine_getClientVersionV1', 1)
      object(v, 'clientVersion')
      const version = /Lattice\/(v[^/]+)/.exec(ctx.clientVersion)?.[1] ?? 'v0.0.0'
      // commit: the first 4 bytes of the source revision; a package install has none
      return [{ code: 'LT', name: 'Lattice', version, commit: '0x00000000' }]
    },
    engine_exchangeTransitionConfigurationV1: async (p) => {
      const [v] = params(p, 'engine_exchangeTransitionConfigurationV1', 1)
      const o = object(v, 'transitionConfiguration')
      const ttd = quantity(o.terminalTotalDifficulty, 'transitionConfiguration.terminalTotalDifficulty')
      const ours = BigInt(
        (chain.spec.geth.config as { terminalTotalDifficulty?: number | string }).terminalTotalDifficulty ?? 0,
      )
      if (ttd !== ours) {
        throw new EngineParamsError(
          `invalid transitionConfiguration.terminalTotalDifficulty: ${ttd}, this chain's is ${ours}`,
        )
      }
      return {
        terminalTotalDifficulty: bigIntToHex(ours),
        terminalBlockHash: bytesToHex(new Uint8Array(32)),
        terminalBlockNumber: '0x0',
      }
    },
    engine_getPayloadBodiesByHashV1: async (p) => {
      const [list] = params(p, 'engine_getPayloadBodiesByHashV1', 1)
      const hashes = array(list, 'blockHashes').map((h, i) => data(h, `blockHashes[${i}]`, 32))
      if (hashes.length > MAX_BODIES)
        throw new TooLargeRequestError(`${hashes.length} hashes, the limit is ${MAX_BODIES}`)
      return Promise.all(hashes.map(async (h) => body(await chain.getBlockByHash(h))))
    },
    engine_getPayloadBodiesByRangeV1: async (p) => {
      const [s, c] = params(p, 'engine_getPayloadBodiesByRangeV1', 2)
      const start = quantity(s, 'start')
      const count = quantity(c, 'count')
      if (start < 1n) throw new EngineParamsError('invalid start: must be at least 1')
      if (count < 1n) throw new EngineParamsError('invalid count: must be at least 1')
      if (count > BigInt(MAX_BODIES)) throw new TooLargeRequestError(`count ${count}, the limit is ${MAX_BODIES}`)
      const out: unknown[] = []
      // no trailing nulls: the answer stops at the head
      const last = start + count - 1n < chain.head.header.number ? start + count - 1n : chain.head.header.number
      for (let n = start; n <= last; n++) out.push(body(await chain.getBlockByNumber(n)))
      return out
    },
    engine_getBlobsV1: async (p) => {
      const [list] = params(p, 'engine_getBlobsV1', 1)
      const hashes = array(list, 'blobVersionedHashes').map((h, i) => data(h, `blobVersionedHashes[${i}]`, 32))
      if (hashes.length > MAX_BLOBS)
        throw new TooLargeRequestError(`${hashes.length} hashes, the limit is ${MAX_BLOBS}`)
      // Lattice keeps no blob pool: every blob is missing
      return hashes.map(() => null)
    },
    engine_getBlobsV2: async (p) => {
      const [list] = params(p, 'engine_getBlobsV2', 1)
      const hashes = array(list, 'blobVersionedHashes').map((h, i) => data(h, `blobVersionedHashes[${i}]`, 32))
      if (hashes.length > MAX_BLOBS)
        throw new TooLargeRequestError(`${hashes.length} hashes, the limit is ${MAX_BLOBS}`)
      // V2 answers null when any blob is missing, and with no blob pool every one is
      return hashes.length === 0 ? [] : null
    },
  }
}
