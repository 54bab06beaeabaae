// engine_newPayloadV1..V4 and engine_getPayloadV1..V5.
import type { Block } from '@ethereumjs/block'
import type { Blob4844Tx } from '@ethereumjs/tx'
import { bigIntToHex, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { executePayload } from '../../chain/forkchoice.ts'
import { errorMessage } from '../../errors.ts'
import { UnknownPayloadError } from '../errors.ts'
import type { PayloadShape } from '../payload.ts'
import { array, blockToPayload, data, params, parsePayload, parseRequests, payloadToBlock } from '../payload.ts'
import { assertForkServed, engineForkAt } from '../validate.ts'
import type { EngineContext, EngineHandlers } from './context.ts'

const invalid = (validationError: string) => ({ status: 'INVALID', latestValidHash: null, validationError })

/** The blob versioned hashes of a block's transactions, in order. */
function versionedHashes(block: Block): Uint8Array[] {
  return block.transactions.flatMap((tx) => ((tx as Blob4844Tx).blobVersionedHashes ?? []).map((h) => hexToBytes(h)))
}

function newPayload(ctx: EngineContext, version: 1 | 2 | 3 | 4) {
  const method = `engine_newPayloadV${version}`
  const shape: PayloadShape = version === 1 ? 'v1' : version === 2 ? 'v2' : 'v3'
  const chain = ctx.node.chain
  return async (p: unknown) => {
    const list = params(p, method, version >= 3 ? version : 1)
    const raw = list[0] as Record<string, unknown> | undefined
    // the fork decides whether V2 payloads carry withdrawals, so read the timestamp and number first
    const ts = typeof raw?.timestamp === 'string' && /^0x[0-9a-fA-F]+$/.test(raw.timestamp) ? BigInt(raw.timestamp) : 0n
    const num =
      typeof raw?.blockNumber === 'string' && /^0x[0-9a-fA-F]+$/.test(raw.blockNumber) ? BigInt(raw.blockNumber) : 0n
    const fork = engineForkAt(chain.common, num, ts)
    const payload = parsePayload(list[0], 'executionPayload', shape, fork !== 'paris')
    let expected: Uint8Array[] | undefined
    const extra: { parentBeaconBlockRoot?: `0x${string}`; requestsHash?: `0x${string}` } = {}
    if (version >= 3) {
      expected = array(list[1], 'expectedBlobVersionedHashes').map((h, i) =>
        data(h, `expectedBlobVersionedHashes[${i}]`, 32),
      )
      extra.parentBeaconBlockRoot = bytesToHex(data(list[2], 'parentBeaconBlockRoot', 32))
    }
    if (version >= 4) extra.requestsHash = parseRequests(list[3], 'executionRequests').hash
    assertForkServed(method, fork, ts)
    let block: Block
    try {
      block = await payloadToBlock(payload, chain.common, extra)
    } catch (err) {
      // a transaction that does not decode, or fields that do not hash to blockHash
      return invalid(String((err as Error)?.message ?? err))
    }
    if (expected) {
      const got = versionedHashes(block)
      if (got.length !== expected.length || got.some((h, i) => !equalsBytes(h, expected[i]))) {
        return invalid(
          `blob versioned hashes differ: the transactions carry [${got.map(bytesToHex).join(', ')}], expected [${expected.map(bytesToHex).join(', ')}]`,
        )
      }
    }
    return chain.exclusive(() => executePayload(chain, block, ctx.log))
  }
}

function getPayload(ctx: EngineContext, version: 1 | 2 | 3 | 4 | 5) {
  const method = `engine_getPayloadV${version}`
  const chain = ctx.node.chain
  return async (p: unknown) => {
    const [rawId] = params(p, method, 1)
    const id = bytesToHex(data(rawId, 'payloadId', 8))
    const pending = ctx.builder.get(id)
    if (!pending) throw new UnknownPayloadError(id)
    let built: Awaited<typeof pending>
    try {
      built = await pending
    } catch (err) {
      ctx.log(`engine: ${method} ${id}: ${errorMessage(err)}`)
      throw new UnknownPayloadError(`${id} (its build failed)`)
    }
    const { block } = built
    assertForkServed(
      method,
      engineForkAt(chain.common, block.header.number, block.header.timestamp),
      block.header.timestamp,
    )
    if (version === 1) return blockToPayload(block, 'v1')
    const blockValue = bigIntToHex(built.blockValue)
    if (version === 2) return { executionPayload: blockToPayload(block, 'v2'), blockValue }
    // no blob pool: a built payload carries no blob transactions, so the bundle is empty
    const out: Record<string, unknown> = {
      executionPayload: blockToPayload(block, 'v3'),
      blockValue,
      blobsBundle: { commitments: [], proofs: [], blobs: [] },
      shouldOverrideBuilder: false,
    }
    if (version >= 4) out.executionRequests = built.requests.map(bytesToHex)
    return out
  }
}

/** engine_newPayloadV1..V4, engine_getPayloadV1..V5. */
export function payloadMethods(ctx: EngineContext): EngineHandlers {
  return {
    engine_newPayloadV1: newPayload(ctx, 1),
    engine_newPayloadV2: newPayload(ctx, 2),
    engine_newPayloadV3: newPayload(ctx, 3),
    engine_newPayloadV4: newPayload(ctx, 4),
    engine_getPayloadV1: getPayload(ctx, 1),
    engine_getPayloadV2: getPayload(ctx, 2),
    engine_getPayloadV3: getPayload(ctx, 3),
    engine_getPayloadV4: getPayload(ctx, 4),
    engine_getPayloadV5: getPayload(ctx, 5),
  }
}
