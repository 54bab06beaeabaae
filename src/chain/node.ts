import { EventEmitter } from 'node:events'
import type { Block } from '@ethereumjs/block'
import { createBlock } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import type { AccessList, TypedTransaction } from '@ethereumjs/tx'
import {
  createBlob4844TxFromSerializedNetworkWrapper,
  createTx,
  createTxFromRLP,
  TransactionType,
} from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import {
  bytesToBigInt,
  bytesToHex,
  createAddressFromString,
  createZeroAddress,
  setLengthLeft,
  toBytes,
} from '@ethereumjs/util'
import type { RunTxResult, VM } from '@ethereumjs/vm'
import { runTx } from '@ethereumjs/vm'
import { LatticeError } from '../errors.ts'
import type { DevAccount } from './accounts.ts'
import type { Chain, MinedBlock } from './chain.ts'
import { CALL_TX, TX_GAS_CAP } from './chain.ts'
import { assertCheckpointDepth } from './checkpoints.ts'
import {
  ExecutionFailedError,
  ExecutionRevertedError,
  TimestampError,
  TxRejectedError,
  txErrors,
  UnknownSnapshotError,
} from './errors.ts'
import type { StateOverride } from './overrides.ts'
import { applyAccountOverrides } from './overrides.ts'
import { decodeRevertReason } from './revert.ts'
import { feeCap, TxPool } from './txpool.ts'

export type { StateOverride } from './overrides.ts'

/** A call as eth_call / eth_estimateGas receive it, already decoded from hex. */
export interface CallRequest {
  from?: Address
  to?: Address
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  data?: Uint8Array
  nonce?: bigint
  accessList?: AccessList
}

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

interface Snapshot {
  head: bigint
  timeOffset: bigint
  nextTimestamp?: bigint
  pool: TypedTransaction[]
}

/** Events: 'block' (MinedBlock) after every block, 'pendingTransaction' (tx hash hex). */
export class LatticeNode extends EventEmitter {
  readonly chain: Chain
  readonly pool = new TxPool()
  readonly devAccounts: DevAccount[]
  automine: boolean
  private readonly coinbase: Address
  private readonly now: () => bigint
  private timeOffset = 0n
  private nextTimestamp?: bigint
  private timer?: NodeJS.Timeout
  private readonly snapshots = new Map<bigint, Snapshot>()
  private snapshotId = 0n

  constructor(opts: NodeOpts) {
    super()
    this.setMaxListeners(0)
    this.chain = opts.chain
    this.devAccounts = opts.devAccounts ?? []
    this.automine = opts.automine ?? true
    this.coinbase = opts.coinbase ?? createZeroAddress()
    this.now = opts.now ?? (() => BigInt(Math.floor(Date.now() / 1000)))
    if (opts.blockTime && opts.blockTime > 0) this.startIntervalMining(opts.blockTime)
  }

  /** Mine every `seconds` (pending transactions, or an empty block). */
  startIntervalMining(seconds: number): void {
    this.stopIntervalMining()
    this.timer = setInterval(() => {
      this.mine().catch((err) => this.emit('error', err))
    }, seconds * 1000)
    this.timer.unref()
  }

  stopIntervalMining(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  async close(): Promise<void> {
    this.stopIntervalMining()
    await this.chain.close()
  }

  // ---------------------------------------------------------------- transactions

  /** Decode, validate and pool a signed transaction; in automine mode, mine it. Returns its hash. */
  async sendRawTransaction(raw: Uint8Array): Promise<Uint8Array> {
    const tx = this.decodeTx(raw)
    return this.submit(tx)
  }

  /** Sign with an unlocked dev account and submit (eth_sendTransaction). */
  async sendTransaction(req: CallRequest): Promise<Uint8Array> {
    const from = req.from
    const account = from && this.devAccounts.find((a) => a.address.equals(from))
    if (!account) {
      throw new TxRejectedError(
        'UNKNOWN_ACCOUNT',
        `unknown account ${from?.toString() ?? '(none)'}: not an unlocked dev account`,
      )
    }
    const chain = this.chain
    const sender = from.toString()
    const stateNonce = await chain.exclusive(async () => (await chain.stateManager.getAccount(from))?.nonce ?? 0n)
    const nonce = req.nonce ?? this.pool.nextNonce(sender, stateNonce)
    const baseFee = this.nextBaseFee()
    let gasLimit = req.gas
    if (gasLimit === undefined) gasLimit = await this.estimateGas({ ...req, nonce }, chain.head)
    const common = chain.common
    const base = {
      nonce,
      gasLimit,
      to: req.to,
      value: req.value ?? 0n,
      data: req.data ?? new Uint8Array(),
      chainId: chain.chainId,
    }
    const tx =
      req.gasPrice !== undefined
        ? createTx(
            { ...base, type: req.accessList ? 1 : 0, gasPrice: req.gasPrice, accessList: req.accessList },
            { common },
          )
        : createTx(
            {
              ...base,
              type: 2,
              maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? 1_000_000_000n,
              maxFeePerGas: req.maxFeePerGas ?? baseFee * 2n + (req.maxPriorityFeePerGas ?? 1_000_000_000n),
              accessList: req.accessList,
            },
            { common },
          )
    return this.submit(tx.sign(account.privateKey))
  }

  private decodeTx(raw: Uint8Array): TypedTransaction {
    if (raw.length === 0) throw txErrors.invalidSignature('empty transaction')
    if (raw[0] === TransactionType.BlobEIP4844) {
      // blob transactions travel with their sidecar (EIP-4844 network form); its KZG proofs are checked here
      try {
        return createBlob4844TxFromSerializedNetworkWrapper(raw, { common: this.chain.common })
      } catch (err) {
        throw txErrors.invalidSignature(`cannot decode blob transaction: ${shortEjsMessage(err)}`)
      }
    }
    const chainId = rawChainId(raw)
    if (chainId !== undefined && chainId !== this.chain.chainId)
      throw txErrors.wrongChainId(chainId, this.chain.chainId)
    try {
      return createTxFromRLP(raw, { common: this.chain.common })
    } catch (err) {
      const msg = shortEjsMessage(err)
      const cap = /gas limit (\d+) exceeds the maximum allowed by EIP-7825/.exec(msg)
      if (cap) throw txErrors.gasCapTooHigh(BigInt(cap[1]), TX_GAS_CAP)
      throw txErrors.invalidSignature(`cannot decode transaction: ${msg}`)
    }
  }

  /** Validate and pool; mine when automining. */
  private async submit(tx: TypedTransaction): Promise<Uint8Array> {
    const chain = this.chain
    if (!tx.isSigned()) throw txErrors.invalidSignature('transaction is not signed')
    let senderAddr: Address
    let valid: boolean
    try {
      valid = tx.verifySignature()
      senderAddr = tx.getSenderAddress()
    } catch (err) {
      throw txErrors.invalidSignature(shortEjsMessage(err))
    }
    if (!valid) throw txErrors.invalidSignature('invalid signature')
    const intrinsic = tx.getIntrinsicGas()
    if (tx.gasLimit < intrinsic) throw txErrors.intrinsicGas(tx.gasLimit, intrinsic)
    if (tx.gasLimit > chain.head.header.gasLimit)
      throw txErrors.gasLimitTooHigh(tx.gasLimit, chain.head.header.gasLimit)
    if (tx.gasLimit > TX_GAS_CAP) throw txErrors.gasCapTooHigh(tx.gasLimit, TX_GAS_CAP)
    const baseFee = this.nextBaseFee()
    if (feeCap(tx) < baseFee) {
      throw txErrors.underpriced(`max fee per gas ${feeCap(tx)} is below the next block's base fee ${baseFee}`)
    }
    const sender = senderAddr.toString()
    const hash = bytesToHex(tx.hash())
    await chain.exclusive(async () => {
      const acct = await chain.stateManager.getAccount(senderAddr)
      this.pool.add(tx, sender, { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n })
    })
    this.emit('pendingTransaction', hash)
    if (this.automine) {
      const mined = await this.minePending()
      for (const m of mined) {
        const bad = m.rejected.find((r) => bytesToHex(r.tx.hash()) === hash)
        if (bad) throw bad.error
      }
    }
    return tx.hash()
  }

  /** Automine: one block per executable transaction, until none is left. A refused transaction mines nothing. */
  private async minePending(): Promise<Pick<MinedBlock, 'rejected'>[]> {
    const out: Pick<MinedBlock, 'rejected'>[] = []
    for (;;) {
      const block = await this.chain.exclusive(async () => {
        const nonces = await this.senderNonces()
        const [next] = this.pool.pending((s) => nonces.get(s) ?? 0n, this.nextBaseFee(), 1)
        if (!next) return undefined
        const timestamp = this.peekTimestamp()
        const mined = await this.chain.mine([next], { timestamp, coinbase: this.coinbase, skipEmpty: true })
        if ('skipped' in mined) {
          for (const r of mined.rejected) this.pool.remove(bytesToHex(r.tx.hash()))
          return mined
        }
        this.takeTimestamp()
        return this.afterMined(mined)
      })
      if (!block) return out
      out.push(block)
    }
  }

  /**
   * Mine one block with the pending transactions (interval mining and evm_mine). When `timestamp`
   * is given it must be after the head's.
   */
  async mine(timestamp?: bigint): Promise<MinedBlock> {
    return this.chain.exclusive(async () => {
      if (timestamp !== undefined) this.setNextTimestampLocked(timestamp)
      const nonces = await this.senderNonces()
      const txs = this.pool.pending((s) => nonces.get(s) ?? 0n, this.nextBaseFee())
      return this.mineLocked(txs, nonces)
    })
  }

  private async mineLocked(txs: TypedTransaction[], _nonces: Map<string, bigint>): Promise<MinedBlock> {
    const timestamp = this.takeTimestamp()
    return this.afterMined(await this.chain.mine(txs, { timestamp, coinbase: this.coinbase }))
  }

  /** Pool upkeep and the 'block' event after a block was committed. */
  private async afterMined(mined: MinedBlock): Promise<MinedBlock> {
    for (const m of mined.included) this.pool.remove(bytesToHex(m.tx.hash()))
    for (const r of mined.rejected) {
      // a transaction that did not fit stays for the next block; any other failure is dropped
      if (!/remaining gas in the block|block blob gas limit/.test(r.error.message)) {
        this.pool.remove(bytesToHex(r.tx.hash()))
      }
    }
    const nonces = await this.senderNonces()
    this.pool.prune((s) => nonces.get(s) ?? 0n)
    this.emit('block', mined)
    return mined
  }

  /** Account nonces at the head of every sender with pooled transactions (txpool_*, testing_buildBlockV1). */
  poolNonces(): Promise<Map<string, bigint>> {
    return this.chain.exclusive(() => this.senderNonces())
  }

  private async senderNonces(): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    for (const s of this.pool.senders()) {
      out.set(s, (await this.chain.stateManager.getAccount(createAddressFromString(s)))?.nonce ?? 0n)
    }
    return out
  }

  /** Base fee of the next block. */
  nextBaseFee(): bigint {
    return this.chain.head.header.calcNextBaseFee()
  }

  // ---------------------------------------------------------------- time

  private takeTimestamp(): bigint {
    const ts = this.peekTimestamp()
    this.nextTimestamp = undefined
    return ts
  }

  /** The next block's timestamp, without using up evm_setNextBlockTimestamp. */
  private peekTimestamp(): bigint {
    const parent = this.chain.head.header.timestamp
    const ts = this.nextTimestamp ?? this.now() + this.timeOffset
    return ts <= parent ? parent + 1n : ts
  }

  /** evm_increaseTime: move the clock forward; returns the total offset in seconds. */
  increaseTime(seconds: bigint): bigint {
    this.timeOffset += seconds
    return this.timeOffset
  }

  /** evm_setNextBlockTimestamp. */
  async setNextBlockTimestamp(ts: bigint): Promise<void> {
    await this.chain.exclusive(async () => this.setNextTimestampLocked(ts))
  }

  private setNextTimestampLocked(ts: bigint): void {
    const head = this.chain.head.header.timestamp
    if (ts <= head) {
      throw new TimestampError(`timestamp ${ts} is not after the current head's timestamp ${head}`)
    }
    this.nextTimestamp = ts
    // later blocks keep counting from the new time, as Hardhat and anvil do
    this.timeOffset = ts - this.now()
  }

  // ---------------------------------------------------------------- snapshots

  /** evm_snapshot: remember head, clock and pool; returns the snapshot id. */
  async snapshot(): Promise<bigint> {
    return this.chain.exclusive(async () => {
      this.snapshotId++
      const pool = this.pool.senders().flatMap((s) => {
        const { pending, queued } = this.pool.content(() => 0n)
        return [...(pending.get(s) ?? []), ...(queued.get(s) ?? [])]
      })
      this.snapshots.set(this.snapshotId, {
        head: this.chain.head.header.number,
        timeOffset: this.timeOffset,
        nextTimestamp: this.nextTimestamp,
        pool,
      })
      return this.snapshotId
    })
  }

  /** evm_revert: back to a snapshot; it and every later snapshot are used up. Returns false if unknown. */
  async revert(id: bigint): Promise<boolean> {
    return this.chain.exclusive(async () => {
      const snap = this.snapshots.get(id)
      if (!snap) return false
      for (const k of [...this.snapshots.keys()]) if (k >= id) this.snapshots.delete(k)
      await this.chain.resetHead(snap.head)
      this.timeOffset = snap.timeOffset
      this.nextTimestamp = snap.nextTimestamp
      this.pool.clear()
      for (const tx of snap.pool) {
        const sender = tx.getSenderAddress()
        const acct = await this.chain.stateManager.getAccount(sender)
        try {
          this.pool.add(tx, sender.toString(), { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n })
        } catch {
          // no longer valid at the restored head
        }
      }
      this.emit('reorg', this.chain.head)
      return true
    })
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
    const result = await this.execute(req, block, overrides)
    throwOnFailure(result)
    return result
  }

  /** Run `req` on the state of `block`; the state is always rolled back. */
  async execute(
    req: CallRequest,
    block: Block,
    overrides?: Map<string, StateOverride>,
    opts: { reportAccessList?: boolean } = {},
  ): Promise<RunTxResult> {
    const chain = this.chain
    const isHead = block.hash().every((b, i) => b === chain.head.hash()[i])
    const run = async (vm: VM) => {
      const sm = vm.stateManager
      await sm.checkpoint()
      try {
        if (overrides) await applyOverrides(vm, overrides)
        await checkCallFunds(vm, req)
        const tx = await this.callTx(req, block, vm)
        // geth runs calls that name no fee with a zero base fee (NoBaseFee), so BASEFEE reads 0
        const noFee =
          req.gasPrice === undefined && req.maxFeePerGas === undefined && req.maxPriorityFeePerGas === undefined
        return await runTx(vm, {
          tx,
          block: callBlock(block, vm, noFee),
          skipBalance: true,
          skipNonce: true,
          skipBlockGasLimitValidation: true,
          skipHardForkValidation: true,
          reportAccessList: opts.reportAccessList,
        })
      } catch (err) {
        if (err instanceof LatticeError) throw err
        throw new ExecutionFailedError(shortEjsMessage(err))
      } finally {
        await sm.revert()
        // the head VM is the chain's own: a checkpoint left open there would stop every later flush
        await assertCheckpointDepth(
          vm,
          'a call (eth_call, eth_estimateGas)',
          0,
          isHead ? block.header.stateRoot : undefined,
        )
      }
    }
    if (isHead) return chain.exclusive(() => run(chain.vm))
    return run(await chain.vmAt(block))
  }

  private async callTx(req: CallRequest, block: Block, vm: VM): Promise<TypedTransaction> {
    const from = req.from ?? createZeroAddress()
    const noFee = req.gasPrice === undefined && req.maxFeePerGas === undefined && req.maxPriorityFeePerGas === undefined
    const baseFee = noFee ? 0n : (block.header.baseFeePerGas ?? 0n)
    const gasLimit = req.gas ?? minBig(block.header.gasLimit, TX_GAS_CAP)
    const nonce = req.nonce ?? (await vm.stateManager.getAccount(from))?.nonce ?? 0n
    const common = vm.common
    const base = { nonce, gasLimit, to: req.to, value: req.value ?? 0n, data: req.data ?? new Uint8Array() }
    const fee =
      req.gasPrice !== undefined
        ? { type: req.accessList ? 1 : 0, gasPrice: req.gasPrice < baseFee ? baseFee : req.gasPrice }
        : {
            type: 2,
            maxFeePerGas: req.maxFeePerGas ?? baseFee,
            maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? 0n,
          }
    if (fee.type === 2 && (fee.maxFeePerGas as bigint) < baseFee) fee.maxFeePerGas = baseFee
    const tx = createTx(
      { ...base, ...fee, accessList: req.accessList, chainId: this.chain.chainId },
      { common, freeze: false },
    )
    // impersonate the sender: calls are unsigned
    ;(tx as { getSenderAddress: () => Address }).getSenderAddress = () => from
    ;(tx as { isSigned: () => boolean }).isSigned = () => true
    ;(tx as unknown as Record<symbol, boolean>)[CALL_TX] = true
    // frozen, ethereumjs caches per-transaction figures (the data gas loops over every calldata byte)
    Object.freeze(tx)
    return tx
  }

  /** eth_estimateGas: the least gas limit with which the call succeeds (within geth's 1.5%). */
  async estimateGas(req: CallRequest, block: Block, overrides?: Map<string, StateOverride>): Promise<bigint> {
    const cap = req.gas ?? minBig(block.header.gasLimit, TX_GAS_CAP)
    // geth: a plain value transfer to an account without code costs exactly 21000
    if (req.to && (req.data === undefined || req.data.length === 0) && !overrides?.has(req.to.toString())) {
      const code = await this.codeAt(req.to, block)
      if (code.length === 0 && cap >= 21000n) {
        const r = await this.execute({ ...req, gas: cap }, block, overrides)
        throwOnFailure(r)
        return 21000n
      }
    }
    const first = await this.execute({ ...req, gas: cap }, block, overrides)
    throwOnFailure(first)
    const used = first.totalGasSpent
    // the gas used is the answer whenever it suffices (no 63/64 reserve or refund in play, e.g. a direct
    // inference call): then the estimate is exactly what the transaction will use
    if (used < cap) {
      const exact = await this.execute({ ...req, gas: used }, block, overrides).catch(() => undefined)
      if (exact && !exact.execResult.exceptionError) return used
    }
    // geth: try the optimistic bound first, then binary search
    let lo = used - 1n
    let hi = cap
    const optimistic = ((used + (first.gasRefund ?? 0n) + 2300n) * 64n) / 63n
    if (optimistic < hi) {
      const r = await this.execute({ ...req, gas: optimistic }, block, overrides)
      if (!r.execResult.exceptionError) hi = optimistic
      else lo = optimistic
    }
    while (lo + 1n < hi) {
      if ((hi - lo) * 1000n < hi * 15n) break
      const mid = (hi + lo) / 2n
      const r = await this.execute({ ...req, gas: mid }, block, overrides).catch(() => undefined)
      if (r && !r.execResult.exceptionError) hi = mid
      else lo = mid
    }
    return hi
  }

  private async codeAt(addr: Address, block: Block): Promise<Uint8Array> {
    const chain = this.chain
    if (block === chain.head) return chain.exclusive(() => chain.stateManager.getCode(addr))
    return (await chain.stateAt(block)).getCode(addr)
  }

  /** eth_createAccessList: the storage slots and addresses a call touches, and its gas with that list. */
  async createAccessList(
    req: CallRequest,
    block: Block,
  ): Promise<{ accessList: AccessList; gasUsed: bigint; error?: string }> {
    const exclude = new Set<string>()
    if (req.from) exclude.add(req.from.toString())
    if (req.to) exclude.add(req.to.toString())
    exclude.add(this.coinbase.toString())
    for (let i = 1; i <= 0x11; i++) exclude.add(bytesToHex(setLengthLeft(toBytes(i), 20)))
    let list: AccessList = req.accessList ?? []
    let result: RunTxResult | undefined
    for (let i = 0; i < 5; i++) {
      result = await this.execute({ ...req, accessList: list }, block, undefined, { reportAccessList: true })
      // as geth: sender, recipient and precompiles are listed only for the storage slots they touch
      const next = (result.accessList ?? []).filter(
        (e) => e.storageKeys.length > 0 || !exclude.has(e.address.toLowerCase()),
      )
      if (JSON.stringify(next) === JSON.stringify(list)) break
      list = next
    }
    const r = result!
    const err = r.execResult.exceptionError
    return {
      accessList: list,
      gasUsed: r.totalGasSpent,
      error: err ? (err.error === 'revert' ? 'execution reverted' : err.error) : undefined,
    }
  }

  /** Sign-free block number used for `pending`: the head (automine leaves nothing pending). */
  async pendingBlock(): Promise<Block> {
    return this.chain.head
  }
}

/** The chain id a raw transaction is signed for, read from its RLP before full decoding (undefined if none). */
function rawChainId(raw: Uint8Array): bigint | undefined {
  try {
    if (raw[0] >= 0xc0) {
      const v = bytesToBigInt(RLP.decode(raw)[6] as Uint8Array)
      return v >= 35n ? (v - 35n) / 2n : undefined
    }
    if (raw[0] >= 1 && raw[0] <= 4) return bytesToBigInt(RLP.decode(raw.subarray(1))[0] as Uint8Array)
  } catch {
    // malformed: the decoder reports it
  }
  return undefined
}

const callBlocks = new WeakMap<Block, Map<string, Block>>()

/**
 * The block context for calls on `block`: the same header, so NUMBER/TIMESTAMP match geth (memoised:
 * building a Block costs about a millisecond in ethereumjs).
 */
function callBlock(block: Block, vm: VM, noBaseFee = false): Block {
  let byKey = callBlocks.get(block)
  if (!byKey) {
    byKey = new Map()
    callBlocks.set(block, byKey)
  }
  const key = `${noBaseFee}:${vm.common.hardfork()}`
  const hit = byKey.get(key)
  if (hit) return hit
  const header = block.header.toJSON()
  if (noBaseFee && header.baseFeePerGas !== undefined) header.baseFeePerGas = '0x0'
  const made = createBlock({ header }, { common: vm.common, skipConsensusFormatValidation: true })
  byKey.set(key, made)
  return made
}

async function applyOverrides(vm: VM, overrides: Map<string, StateOverride>): Promise<void> {
  await applyAccountOverrides(vm.stateManager, overrides)
}

/**
 * Like anvil and geth: a call that sends value needs a sender that has it (plus gas × price when both are
 * named), else a priced model would run for a sender that cannot pay its price.
 */
async function checkCallFunds(vm: VM, req: CallRequest): Promise<void> {
  const value = req.value ?? 0n
  if (value === 0n) return
  const from = req.from ?? createZeroAddress()
  const price = req.gasPrice ?? req.maxFeePerGas ?? 0n
  const want = value + (req.gas !== undefined ? req.gas * price : 0n)
  const have = (await vm.stateManager.getAccount(from))?.balance ?? 0n
  if (have < want) throw txErrors.insufficientFunds(from.toString(), have, want)
}

function throwOnFailure(result: RunTxResult): void {
  const err = result.execResult.exceptionError
  if (!err) return
  if (err.error === 'revert') {
    const data = result.execResult.returnValue
    throw new ExecutionRevertedError(decodeRevertReason(data), bytesToHex(data))
  }
  throw new ExecutionFailedError(err.error)
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

/** ethereumjs error messages carry a block/tx dump after " (" or " -"; keep the first clause. */
export function shortEjsMessage(err: unknown): string {
  const msg = String((err as Error)?.message ?? err)
  return msg.split(/ \(tx type|\(block number| block number=| tx type=| hash=/)[0].trim()
}
