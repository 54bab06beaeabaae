import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { txErrors } from './errors.ts'

/** Options for {@link TxPool}; defaults follow geth's txpool. */
export interface TxPoolOpts {
  /** Most transactions held in total (default 4096). */
  maxSize?: number
  /** Most transactions held per sender (default 64). */
  maxPerSender?: number
  /** Percentage by which a replacement must raise both fee caps (default 10). */
  priceBump?: bigint
}

/** What the pool needs to know about a sender's account. */
export interface SenderState {
  nonce: bigint
  balance: bigint
}

interface Entry {
  tx: TypedTransaction
  sender: string
  hash: string
}

/** Fee cap of a transaction (gasPrice for legacy/2930). */
export function feeCap(tx: TypedTransaction): bigint {
  return 'maxFeePerGas' in tx ? tx.maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
}

/** Tip cap of a transaction (gasPrice for legacy/2930). */
export function tipCap(tx: TypedTransaction): bigint {
  return 'maxPriorityFeePerGas' in tx ? tx.maxPriorityFeePerGas : (tx as { gasPrice: bigint }).gasPrice
}

/** The tip a transaction pays at `baseFee` (negative when it cannot pay the base fee). */
export function effectiveTip(tx: TypedTransaction, baseFee: bigint): bigint {
  const cap = feeCap(tx) - baseFee
  const tip = tipCap(tx)
  return tip < cap ? tip : cap
}

/** A change to the pool, for its restart journal (txpool-journal.ts). */
export type PoolChange = { kind: 'add'; tx: TypedTransaction } | { kind: 'remove'; hash: string } | { kind: 'clear' }

/**
 * Pending transactions by sender and nonce. The pool validates what it can without executing
 * (nonce, balance, fees, replacement) and hands the block builder a nonce-ordered,
 * tip-prioritised list.
 */
export class TxPool {
  private readonly bySender = new Map<string, Map<bigint, Entry>>()
  private readonly byHash = new Map<string, Entry>()
  private readonly maxSize: number
  private readonly maxPerSender: number
  private readonly priceBump: bigint
  /** Told of every change after it is made (the restart journal); must not throw. */
  onChange?: (change: PoolChange) => void

  constructor(opts: TxPoolOpts = {}) {
    this.maxSize = opts.maxSize ?? 4096
    this.maxPerSender = opts.maxPerSender ?? 64
    this.priceBump = opts.priceBump ?? 10n
  }

  get size(): number {
    return this.byHash.size
  }

  has(hash: string): boolean {
    return this.byHash.has(hash)
  }

  get(hash: string): TypedTransaction | undefined {
    return this.byHash.get(hash)?.tx
  }

  /**
   * Add a signed transaction whose sender is `sender`. Throws a TxRejectedError for nonce too low,
   * insufficient funds, an underpriced replacement, a duplicate, or a full pool.
   */
  add(tx: TypedTransaction, sender: string, state: SenderState): void {
    const hash = bytesToHex(tx.hash())
    if (this.byHash.has(hash)) throw txErrors.alreadyKnown()
    if (tx.nonce < state.nonce) throw txErrors.nonceTooLow(sender, tx.nonce, state.nonce)
    const cost = tx.gasLimit * feeCap(tx) + tx.value
    if (state.balance < cost) throw txErrors.insufficientFunds(sender, state.balance, cost)
    let queue = this.bySender.get(sender)
    const existing = queue?.get(tx.nonce)
    if (existing) {
      const bump = (v: bigint) => v + (v * this.priceBump) / 100n
      if (feeCap(tx) < bump(feeCap(existing.tx)) || tipCap(tx) < bump(tipCap(existing.tx))) {
        throw txErrors.replacementUnderpriced()
      }
      this.byHash.delete(existing.hash)
      this.onChange?.({ kind: 'remove', hash: existing.hash })
    } else {
      if (this.byHash.size >= this.maxSize) throw txErrors.poolFull()
      if ((queue?.size ?? 0) >= this.maxPerSender) throw txErrors.poolFull()
    }
    if (!queue) {
      queue = new Map()
      this.bySender.set(sender, queue)
    }
    const entry = { tx, sender, hash }
    queue.set(tx.nonce, entry)
    this.byHash.set(hash, entry)
    this.onChange?.({ kind: 'add', tx })
  }

  /** Drop a transaction (mined or evicted). */
  remove(hash: string): void {
    const e = this.byHash.get(hash)
    if (!e) return
    this.byHash.delete(hash)
    const q = this.bySender.get(e.sender)
    q?.delete(e.tx.nonce)
    if (q && q.size === 0) this.bySender.delete(e.sender)
    this.onChange?.({ kind: 'remove', hash })
  }

  /** Drop every transaction whose nonce is below the sender's account nonce. */
  prune(nonceOf: (sender: string) => bigint): void {
    for (const [sender, q] of this.bySender) {
      const n = nonceOf(sender)
      for (const [nonce, e] of q) if (nonce < n) this.remove(e.hash)
    }
  }

  /**
   * Executable transactions for the next block: per sender a gap-free run from its account
   * nonce, merged across senders by effective tip (highest first), as geth's
   * TransactionsByPriceAndNonce does. Transactions that cannot pay `baseFee` are left out.
   */
  pending(nonceOf: (sender: string) => bigint, baseFee: bigint, limit = Number.POSITIVE_INFINITY): TypedTransaction[] {
    const runs: Entry[][] = []
    for (const [sender, q] of this.bySender) {
      const run: Entry[] = []
      for (let n = nonceOf(sender); q.has(n); n++) run.push(q.get(n)!)
      if (run.length > 0) runs.push(run)
    }
    const out: TypedTransaction[] = []
    const heads = runs.map(() => 0)
    while (out.length < limit) {
      let best = -1
      let bestTip = 0n
      for (let i = 0; i < runs.length; i++) {
        const e = runs[i][heads[i]]
        if (!e) continue
        const tip = effectiveTip(e.tx, baseFee)
        if (tip < 0n) continue
        if (best === -1 || tip > bestTip) {
          best = i
          bestTip = tip
        }
      }
      if (best === -1) break
      out.push(runs[best][heads[best]].tx)
      heads[best]++
    }
    return out
  }

  /** Pending (executable) and queued (nonce gap) transactions per sender, for txpool_content. */
  content(nonceOf: (sender: string) => bigint): {
    pending: Map<string, TypedTransaction[]>
    queued: Map<string, TypedTransaction[]>
  } {
    const pending = new Map<string, TypedTransaction[]>()
    const queued = new Map<string, TypedTransaction[]>()
    for (const [sender, q] of this.bySender) {
      let next = nonceOf(sender)
      const nonces = [...q.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      for (const n of nonces) {
        const target = n === next ? pending : queued
        if (n === next) next++
        const list = target.get(sender) ?? []
        list.push(q.get(n)!.tx)
        target.set(sender, list)
      }
    }
    return { pending, queued }
  }

  /** Senders with transactions in the pool. */
  senders(): string[] {
    return [...this.bySender.keys()]
  }

  /** Highest pending nonce + 1 for `sender`, or undefined when the sender has nothing pooled. */
  nextNonce(sender: string, stateNonce: bigint): bigint {
    const q = this.bySender.get(sender)
    let n = stateNonce
    while (q?.has(n)) n++
    return n
  }

  clear(): void {
    this.bySender.clear()
    this.byHash.clear()
    this.onChange?.({ kind: 'clear' })
  }
}
