// Payload building for the Engine API: forkchoiceUpdated with payload attributes builds a block from the pool on
// the given head with the consensus client's timestamp, prevRandao, fee recipient, withdrawals and beacon root,
// without storing it or moving the head; getPayload hands it out with its value (the priority fees it earns).
import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address, WithdrawalData } from '@ethereumjs/util'
import { bigIntToUnpaddedBytes, bytesToHex, createAddressFromString, createWithdrawal } from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { errorMessage } from '../errors.ts'
import { isNodeLocalFailure } from '../precompiles/errors.ts'
import type { BuiltBlock, Chain } from './chain.ts'
import { effectiveGasPrice } from './chain.ts'
import type { TxPool } from './txpool.ts'

/** The consensus client's choices for a payload (execution-apis PayloadAttributesV1..V3). */
export interface PayloadAttributes {
  timestamp: bigint
  prevRandao: Uint8Array
  suggestedFeeRecipient: Address
  /** From Shanghai (V2). */
  withdrawals?: WithdrawalData[]
  /** From Cancun (V3). */
  parentBeaconBlockRoot?: Uint8Array
}

/** A payload built and kept for getPayload. */
export interface BuiltPayload {
  id: string
  block: Block
  /** Wei the fee recipient earns from priority fees. */
  blockValue: bigint
  /** EIP-7685 requests (Prague on). */
  requests: Uint8Array[]
  /** Transactions left out because this node cannot run their inference (model bytes unavailable). */
  leftOut: { tx: TypedTransaction; reason: string }[]
}

/** Options for {@link PayloadBuilder}. */
export interface PayloadBuilderOpts {
  chain: Chain
  pool: TxPool
  /** A line for the node's log (left-out transactions, failed builds). */
  log?: (line: string) => void
  /** Payloads kept for getPayload (default 32, oldest dropped first). */
  keep?: number
}

/** Builds payloads on request and keeps the latest few by id. */
export class PayloadBuilder {
  private readonly payloads = new Map<string, Promise<BuiltPayload>>()
  private readonly chain: Chain
  private readonly pool: TxPool
  private readonly log: (line: string) => void
  private readonly keep: number

  constructor(opts: PayloadBuilderOpts) {
    this.chain = opts.chain
    this.pool = opts.pool
    this.log = opts.log ?? (() => {})
    this.keep = opts.keep ?? 32
  }

  /**
   * Start building on `parent`; returns the payload id at once (the same attributes give the same id, as in geth).
   * The build waits for the chain lock, so call it outside `chain.exclusive`.
   */
  start(parent: Block, attrs: PayloadAttributes, version: number): string {
    const id = payloadId(parent, attrs, version)
    if (this.payloads.has(id)) return id
    const build = this.build(id, parent, attrs)
    build.catch((err) => this.log(`engine: building payload ${id} failed: ${errorMessage(err)}`))
    this.payloads.set(id, build)
    while (this.payloads.size > this.keep) this.payloads.delete(this.payloads.keys().next().value as string)
    return id
  }

  /** The payload with `id` (waits for its build), or undefined when this node never built it. */
  get(id: string): Promise<BuiltPayload> | undefined {
    return this.payloads.get(id)
  }

  private build(id: string, parent: Block, attrs: PayloadAttributes): Promise<BuiltPayload> {
    const chain = this.chain
    return chain.exclusive(async () => {
      const state = await chain.stateAt(parent)
      const nonces = new Map<string, bigint>()
      for (const s of this.pool.senders()) {
        nonces.set(s, (await state.getAccount(createAddressFromString(s)))?.nonce ?? 0n)
      }
      const baseFee = parent.header.calcNextBaseFee()
      const txs = this.pool.pending((s) => nonces.get(s) ?? 0n, baseFee)
      // without skipEmpty a build always gives a block
      const built = (await chain.build(parent, txs, {
        timestamp: attrs.timestamp,
        coinbase: attrs.suggestedFeeRecipient,
        mixHash: attrs.prevRandao,
        withdrawals: attrs.withdrawals,
        parentBeaconBlockRoot: attrs.parentBeaconBlockRoot,
      })) as BuiltBlock
      try {
        // kept beside the chain, executed, with its receipts and inference records: the newPayload that brings it
        // back from the consensus client finds it VALID without running its transactions (and inferences) again
        await chain.commitBlock(built.block, built.included, { canonical: false })
      } finally {
        await chain.backTo()
      }
      const leftOut: BuiltPayload['leftOut'] = []
      for (const r of built.rejected) {
        if (isNodeLocalFailure(r.error)) {
          leftOut.push({ tx: r.tx, reason: errorMessage(r.error) })
          this.log(
            `engine: payload ${id} leaves out transaction ${bytesToHex(r.tx.hash())}: its inference cannot run on this node (${errorMessage(r.error)})`,
          )
        }
      }
      const blockFee = built.block.header.baseFeePerGas ?? 0n
      let blockValue = 0n
      for (const m of built.included)
        blockValue += (effectiveGasPrice(m.tx, blockFee) - blockFee) * m.result.totalGasSpent
      return { id, block: built.block, blockValue, requests: built.requests, leftOut }
    })
  }
}

/** 8 bytes of a hash over everything that decides the payload. */
function payloadId(parent: Block, attrs: PayloadAttributes, version: number): string {
  const withdrawals = (attrs.withdrawals ?? []).map((w) => createWithdrawal(w).raw())
  const enc = RLP.encode([
    bigIntToUnpaddedBytes(BigInt(version)),
    parent.hash(),
    bigIntToUnpaddedBytes(attrs.timestamp),
    attrs.prevRandao,
    attrs.suggestedFeeRecipient.bytes,
    withdrawals,
    attrs.withdrawals ? new Uint8Array([1]) : new Uint8Array(),
    attrs.parentBeaconBlockRoot ?? new Uint8Array(),
  ])
  return bytesToHex(keccak256(enc).subarray(0, 8))
}
