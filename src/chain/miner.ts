import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import type { Chain, MinedBlock } from './chain.ts'
import type { BlockClock } from './clock.ts'
import { pinnedNextBaseFee } from './dev-header.ts'
import type { TxPool } from './txpool.ts'

/** Options for {@link Miner}. */
export interface MinerOpts {
  chain: Chain
  pool: TxPool
  clock: BlockClock
  coinbase: Address
  /** Called with every committed block, inside the chain lock (the node's 'block' event). */
  onBlock: (mined: MinedBlock) => void
  /** Called when an interval-mined block fails (the node's 'error' event). */
  onError: (err: unknown) => void
}

/** Block production from the pool (anvil's `miner`): automine, evm_mine and interval mining. */
export class Miner {
  private readonly chain: Chain
  private readonly pool: TxPool
  private readonly clock: BlockClock
  /** anvil_setCoinbase changes it for later blocks. */
  coinbase: Address
  private readonly onBlock: (mined: MinedBlock) => void
  private readonly onError: (err: unknown) => void
  private timer?: NodeJS.Timeout

  constructor(opts: MinerOpts) {
    this.chain = opts.chain
    this.pool = opts.pool
    this.clock = opts.clock
    this.coinbase = opts.coinbase
    this.onBlock = opts.onBlock
    this.onError = opts.onError
  }

  /** Mine every `seconds` (pending transactions, or an empty block). */
  startInterval(seconds: number): void {
    this.stopInterval()
    this.timer = setInterval(() => {
      this.mine().catch((err) => this.onError(err))
    }, seconds * 1000)
    this.timer.unref()
  }

  stopInterval(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Automine: one block per executable transaction, until none is left. A refused transaction mines nothing. */
  async minePending(): Promise<Pick<MinedBlock, 'rejected'>[]> {
    const out: Pick<MinedBlock, 'rejected'>[] = []
    for (;;) {
      const block = await this.chain.exclusive(async () => {
        const nonces = await this.senderNonces()
        const [next] = this.pool.pending((s) => nonces.get(s) ?? 0n, this.nextBaseFee(), 1)
        if (!next) return undefined
        const timestamp = this.clock.peek(this.chain.head.header.timestamp)
        const mined = await this.chain.mine([next], { timestamp, coinbase: this.coinbase, skipEmpty: true })
        if ('skipped' in mined) {
          for (const r of mined.rejected) this.pool.remove(bytesToHex(r.tx.hash()))
          return mined
        }
        this.clock.take(this.chain.head.header.timestamp)
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
      if (timestamp !== undefined) this.clock.setNext(timestamp, this.chain.head.header.timestamp)
      const nonces = await this.senderNonces()
      const txs = this.pool.pending((s) => nonces.get(s) ?? 0n, this.nextBaseFee())
      return this.mineLocked(txs)
    })
  }

  private async mineLocked(txs: TypedTransaction[]): Promise<MinedBlock> {
    const timestamp = this.clock.take(this.chain.head.header.timestamp)
    return this.afterMined(await this.chain.mine(txs, { timestamp, coinbase: this.coinbase }))
  }

  /** Pool upkeep and the block callback after a block was committed. */
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
    this.onBlock(mined)
    return mined
  }

  /** Account nonces at the head of every sender with pooled transactions; call inside the chain lock. */
  async senderNonces(): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    for (const s of this.pool.senders()) {
      out.set(s, (await this.chain.stateManager.getAccount(createAddressFromString(s)))?.nonce ?? 0n)
    }
    return out
  }

  /** Base fee of the next block. */
  nextBaseFee(): bigint {
    // anvil_setNextBlockBaseFeePerGas pins it (dev-header.ts)
    return pinnedNextBaseFee(this.chain) ?? this.chain.head.header.calcNextBaseFee()
  }
}
