// engine_forkchoiceUpdatedV1..V3: move the head (reorg included), record safe/finalized, start a payload build.
import type { Block } from '@ethereumjs/block'
import { bytesToHex, createAddressFromString, equalsBytes } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import type { MinedBlock } from '../../chain/chain.ts'
import { isAncestor, knownInvalid, setCanonicalHead, setForkchoiceTag } from '../../chain/forkchoice.ts'
import type { PayloadAttributes } from '../../chain/payload-builder.ts'
import { reconcilePool } from '../../chain/pool-reorg.ts'
import { EngineParamsError, InvalidForkchoiceStateError, InvalidPayloadAttributesError } from '../errors.ts'
import { data, object, params, quantity, withdrawals } from '../payload.ts'
import { assertForkServed, engineForkAt } from '../validate.ts'
import type { EngineContext, EngineHandlers } from './context.ts'

const ZERO = new Uint8Array(32)
const present = (o: Record<string, unknown>, k: string) => o[k] !== undefined && o[k] !== null

/** Check payload attributes for a method version (structure -32602, fork -38005). */
function parseAttributes(ctx: EngineContext, v: unknown, version: 1 | 2 | 3, headNumber: bigint): PayloadAttributes {
  const method = `engine_forkchoiceUpdatedV${version}`
  const o = object(v, 'payloadAttributes')
  const timestamp = quantity(o.timestamp, 'payloadAttributes.timestamp')
  const fork = engineForkAt(ctx.node.chain.common, headNumber + 1n, timestamp)
  const attrs: PayloadAttributes = {
    timestamp,
    prevRandao: data(o.prevRandao, 'payloadAttributes.prevRandao', 32),
    suggestedFeeRecipient: createAddressFromString(
      bytesToHex(data(o.suggestedFeeRecipient, 'payloadAttributes.suggestedFeeRecipient', 20)),
    ),
  }
  const wantWithdrawals = version === 3 || (version === 2 && fork !== 'paris')
  if (wantWithdrawals && !present(o, 'withdrawals'))
    throw new EngineParamsError('missing payloadAttributes.withdrawals')
  if (!wantWithdrawals && present(o, 'withdrawals')) {
    throw new EngineParamsError('unexpected payloadAttributes.withdrawals: not allowed in V1 or before Shanghai')
  }
  if (wantWithdrawals) attrs.withdrawals = withdrawals(o.withdrawals, 'payloadAttributes.withdrawals')
  if (version === 3) {
    if (!present(o, 'parentBeaconBlockRoot'))
      throw new EngineParamsError('missing payloadAttributes.parentBeaconBlockRoot')
    attrs.parentBeaconBlockRoot = data(o.parentBeaconBlockRoot, 'payloadAttributes.parentBeaconBlockRoot', 32)
  } else if (present(o, 'parentBeaconBlockRoot')) {
    throw new EngineParamsError('unexpected payloadAttributes.parentBeaconBlockRoot: only forkchoiceUpdatedV3 takes it')
  }
  assertForkServed(method, fork, timestamp)
  return attrs
}

/** The node's 'reorg' and 'block' events for a head change, so subscriptions, filters and metrics follow it. */
async function announce(ctx: EngineContext, adopted: Block[], removed: Block[]): Promise<void> {
  const node = ctx.node
  if (removed.length > 0) node.emit('reorg', node.chain.head)
  for (const block of adopted) {
    const receipts = await node.chain.getReceipts(block.hash())
    const mined: MinedBlock = {
      block,
      receipts,
      included: block.transactions.map((tx, i) => ({
        tx,
        receipt: receipts[i],
        result: undefined as unknown as RunTxResult,
      })),
      rejected: [],
      requests: [],
    }
    node.emit('block', mined)
  }
}

function forkchoiceUpdated(ctx: EngineContext, version: 1 | 2 | 3) {
  const method = `engine_forkchoiceUpdatedV${version}`
  const chain = ctx.node.chain
  return async (p: unknown) => {
    const list = params(p, method, 1, 2)
    const state = object(list[0], 'forkchoiceState')
    const headHash = data(state.headBlockHash, 'forkchoiceState.headBlockHash', 32)
    const safeHash = data(state.safeBlockHash, 'forkchoiceState.safeBlockHash', 32)
    const finalizedHash = data(state.finalizedBlockHash, 'forkchoiceState.finalizedBlockHash', 32)
    const rawAttrs = list[1] === undefined || list[1] === null ? undefined : list[1]
    const result = await chain.exclusive(async () => {
      // an invalid block is never stored: its verdict is remembered instead
      const bad = knownInvalid(chain, bytesToHex(headHash))
      if (bad) return { out: { payloadStatus: bad, payloadId: null } }
      const head = await chain.getBlockByHash(headHash)
      const syncing = {
        payloadStatus: { status: 'SYNCING', latestValidHash: null, validationError: null },
        payloadId: null,
      }
      if (!head) return { out: syncing }
      if (!(await chain.stateManager.hasStateRoot(head.header.stateRoot))) return { out: syncing }
      // attributes are checked for structure and fork before anything changes
      const attrs = rawAttrs === undefined ? undefined : parseAttributes(ctx, rawAttrs, version, head.header.number)
      for (const [name, h] of [
        ['finalizedBlockHash', finalizedHash],
        ['safeBlockHash', safeHash],
      ] as const) {
        if (equalsBytes(h, ZERO)) continue
        if (!(await isAncestor(chain, h, head))) {
          throw new InvalidForkchoiceStateError(`${name} ${bytesToHex(h)} is unknown or not an ancestor of the head`)
        }
      }
      const change = await setCanonicalHead(chain, head)
      await reconcilePool(chain, ctx.node.pool, change)
      if (!equalsBytes(safeHash, ZERO)) await setForkchoiceTag(chain, 'safe', safeHash)
      if (!equalsBytes(finalizedHash, ZERO)) await setForkchoiceTag(chain, 'finalized', finalizedHash)
      return { out: undefined, head, attrs, change }
    })
    if (result.out) return result.out
    const { head, attrs, change } = result as Required<Omit<typeof result, 'out'>>
    await announce(ctx, change.adopted, change.removed)
    const status = { status: 'VALID', latestValidHash: bytesToHex(head.hash()), validationError: null }
    if (!attrs) return { payloadStatus: status, payloadId: null }
    if (attrs.timestamp <= head.header.timestamp) {
      throw new InvalidPayloadAttributesError(
        `timestamp ${attrs.timestamp} is not after the head's ${head.header.timestamp}`,
      )
    }
    return { payloadStatus: status, payloadId: ctx.builder.start(head, attrs, version) }
  }
}

/** engine_forkchoiceUpdatedV1..V3. */
export function forkchoiceMethods(ctx: EngineContext): EngineHandlers {
  return {
    engine_forkchoiceUpdatedV1: forkchoiceUpdated(ctx, 1),
    engine_forkchoiceUpdatedV2: forkchoiceUpdated(ctx, 2),
    engine_forkchoiceUpdatedV3: forkchoiceUpdated(ctx, 3),
  }
}
