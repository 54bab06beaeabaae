import { EventEmitter } from 'node:events'
import type { Block } from '@ethereumjs/block'
import type { AccessList, TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { bytesToHex, createZeroAddress } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import type { DevAccount } from './accounts.ts'
import type { CallRequest, ExecuteOpts } from './calls.ts'
import { call, executeCall } from './calls.ts'
import type { Chain, MinedBlock } from './chain.ts'
import { BlockClock } from './clock.ts'
import { UnknownSnapshotError } from './errors.ts'
import { createAccessList, estimateGas } from './estimate.ts'
import { impersonatedTx } from './impersonation.ts'
import { Miner } from './miner.ts'
import type { StateOverride } from './overrides.ts'
import { Snapshots } from './snapshots.ts'
import { admitTx, decodeRawTx, devSigner, devTx } from './submission.ts'
import { TxPool } from './txpool.ts'

export type { CallRequest } from './calls.ts'
export { shortEjsMessage } from './ejs-message.ts'
export type { StateOverride } from './overrides.ts'

/** Options for {@link LatticeNode}. */
export interface NodeOpts {
  chain: Chain
  /** Unlocked accounts (devnet mode). Empty on a validator node. */
  devAccounts?: DevAccount[]
  /** Mine a block for each transaction before sendRawTransaction returns (default true). */
  automine?: boolean
  /** Interval mining period in seconds; 0 disables it. */
  blockTime?: number
  coinbase?: Address
  /** Clock, for tests (seconds). */
  now?: () => bigint
}

/**
 * The node the RPC namespaces drive: a thin composition of the clock (clock.ts), block production
 * (miner.ts), transaction admission (submission.ts), snapshots (snapshots.ts) and call execution
 * (calls.ts, estimate.ts), as anvil composes its backend.
 *
 * Events: 'block' (MinedBlock) after every block, 'pendingTransaction' (tx hash hex), 'reorg' (new head)
 * after evm_revert, 'error' when interval mining fails.
 */
export class LatticeNode extends EventEmitter {
  readonly chain: Chain
  readonly pool = new TxPool()
  readonly devAccounts: DevAccount[]
  automine: boolean
  private readonly coinbase: Address
  readonly clock: BlockClock
  readonly miner: Miner
  /** Devnet: senders eth_sendTransaction accepts without a key (anvil_impersonateAccount, dev-state.ts). */
  impersonating?: (from: Address) => boolean
  private readonly snapshots: Snapshots

  constructor(opts: NodeOpts) {
    super()
    this.setMaxListeners(0)
    this.chain = opts.chain
    this.devAccounts = opts.devAccounts ?? []
    this.automine = opts.automine ?? true
    this.coinbase = opts.coinbase ?? createZeroAddress()
    this.clock = new BlockClock(opts.now)
    this.miner = new Miner({
      chain: this.chain,
      pool: this.pool,
      clock: this.clock,
      coinbase: this.coinbase,
      onBlock: (mined) => this.emit('block', mined),
      onError: (err) => this.emit('error', err),
    })
    this.snapshots = new Snapshots({
      chain: this.chain,
      pool: this.pool,
      clock: this.clock,
      onRevert: () => this.emit('reorg', this.chain.head),
    })
    if (opts.blockTime && opts.blockTime > 0) this.startIntervalMining(opts.blockTime)
  }

  /** Mine every `seconds` (pending transactions, or an empty block). */
  startIntervalMining(seconds: number): void {
    this.miner.startInterval(seconds)
  }

  stopIntervalMining(): void {
    this.miner.stopInterval()
  }

  async close(): Promise<void> {
    this.stopIntervalMining()
    await this.chain.close()
  }

  // ---------------------------------------------------------------- transactions

  /** Decode, validate and pool a signed transaction; in automine mode, mine it. Returns its hash. */
  async sendRawTransaction(raw: Uint8Array): Promise<Uint8Array> {
    return this.submit(decodeRawTx(this.chain, raw))
  }

  /** Sign with an unlocked dev account (or as an impersonated one) and submit (eth_sendTransaction). */
  async sendTransaction(req: CallRequest): Promise<Uint8Array> {
    return this.submit(await this.signTransaction(req, true))
  }

  /**
   * Fill in nonce, gas and fees and sign with the unlocked dev account `req.from` (eth_signTransaction); with
   * `impersonate`, an impersonated sender gets the placeholder signature instead (impersonation.ts).
   */
  async signTransaction(req: CallRequest, impersonate = false): Promise<TypedTransaction> {
    const impersonated =
      impersonate &&
      req.from !== undefined &&
      !this.devAccounts.some((a) => a.address.equals(req.from!)) &&
      this.impersonating?.(req.from) === true
    const account = impersonated ? undefined : devSigner(this.devAccounts, req.from)
    const chain = this.chain
    const from = account?.address ?? (req.from as Address)
    const stateNonce = await chain.exclusive(async () => (await chain.stateManager.getAccount(from))?.nonce ?? 0n)
    const nonce = req.nonce ?? this.pool.nextNonce(from.toString(), stateNonce)
    const baseFee = this.nextBaseFee()
    let gasLimit = req.gas
    if (gasLimit === undefined) gasLimit = await this.estimateGas({ ...req, nonce }, chain.head)
    const tx = devTx(chain, req, { nonce, gasLimit, baseFee })
    return account ? tx.sign(account.privateKey) : impersonatedTx(chain, tx, from)
  }

  /** Validate and pool; mine when automining. */
  private async submit(tx: TypedTransaction): Promise<Uint8Array> {
    await admitTx(this.chain, this.pool, tx, this.nextBaseFee())
    const hash = bytesToHex(tx.hash())
    this.emit('pendingTransaction', hash)
    if (this.automine) {
      const mined = await this.miner.minePending()
      for (const m of mined) {
        const bad = m.rejected.find((r) => bytesToHex(r.tx.hash()) === hash)
        if (bad) throw bad.error
      }
    }
    return tx.hash()
  }

  /**
   * Mine one block with the pending transactions (interval mining and evm_mine). When `timestamp`
   * is given it must be after the head's.
   */
  async mine(timestamp?: bigint): Promise<MinedBlock> {
    return this.miner.mine(timestamp)
  }

  /** Account nonces at the head of every sender with pooled transactions (txpool_*, testing_buildBlockV1). */
  poolNonces(): Promise<Map<string, bigint>> {
    return this.chain.exclusive(() => this.miner.senderNonces())
  }

  /** Base fee of the next block. */
  nextBaseFee(): bigint {
    return this.miner.nextBaseFee()
  }

  // ---------------------------------------------------------------- time

  /** evm_increaseTime: move the clock forward; returns the total offset in seconds. */
  increaseTime(seconds: bigint): bigint {
    return this.clock.increase(seconds)
  }

  /** evm_setNextBlockTimestamp. */
  async setNextBlockTimestamp(ts: bigint): Promise<void> {
    await this.chain.exclusive(async () => this.clock.setNext(ts, this.chain.head.header.timestamp))
  }

  // ---------------------------------------------------------------- snapshots

  /** evm_snapshot: remember head, clock and pool; returns the snapshot id. */
  async snapshot(): Promise<bigint> {
    return this.snapshots.take()
  }

  /** evm_revert: back to a snapshot; it and every later snapshot are used up. Returns false if unknown. */
  async revert(id: bigint): Promise<boolean> {
    return this.snapshots.revert(id)
  }

  /** Throws UnknownSnapshotError when `id` is not a live snapshot. */
  async revertOrThrow(id: bigint): Promise<void> {
    if (!(await this.revert(id))) throw new UnknownSnapshotError(`0x${id.toString(16)}`)
  }

  // ---------------------------------------------------------------- execution without a transaction

  /**
   * Execute a call against the post-state of `block` without changing anything.
   * Reverts throw ExecutionRevertedError, other failures ExecutionFailedError.
   */
  async call(req: CallRequest, block: Block, overrides?: Map<string, StateOverride>): Promise<RunTxResult> {
    return call(this.chain, req, block, overrides)
  }

  /** Run `req` on the state of `block`; the state is always rolled back. */
  async execute(
    req: CallRequest,
    block: Block,
    overrides?: Map<string, StateOverride>,
    opts: ExecuteOpts = {},
  ): Promise<RunTxResult> {
    return executeCall(this.chain, req, block, overrides, opts)
  }

  /** eth_estimateGas: the least gas limit with which the call succeeds (within geth's 1.5%). */
  async estimateGas(req: CallRequest, block: Block, overrides?: Map<string, StateOverride>): Promise<bigint> {
    return estimateGas(this.chain, req, block, overrides)
  }

  /** eth_createAccessList: the storage slots and addresses a call touches, and its gas with that list. */
  async createAccessList(
    req: CallRequest,
    block: Block,
  ): Promise<{ accessList: AccessList; gasUsed: bigint; error?: string }> {
    return createAccessList(this.chain, this.coinbase, req, block)
  }

  /** Sign-free block number used for `pending`: the head (automine leaves nothing pending). */
  async pendingBlock(): Promise<Block> {
    return this.chain.head
  }
}
