import type { EVMInterface } from '@ethereumjs/evm'
import type { Address } from '@ethereumjs/util'

/** One successful inference, as kept with its block (the proofs issue builds on these). */
export interface InferenceRecord {
  /** Position of this inference within its transaction. */
  index: number
  modelId: string
  /** keccak256 of the ABI-encoded input tensors. */
  inputHash: string
  /** keccak256 of the ABI-encoded output tensors. */
  outputHash: string
  flops: bigint
  gasUsed: bigint
}

/** An inference before it gets its index. */
export type PendingRecord = Omit<InferenceRecord, 'index'>

interface Frame {
  caller: Address
  /** The address whose code runs: not the precompile's for a DELEGATECALL or CALLCODE to it. */
  to?: Address
  delegatecall: boolean
  records: PendingRecord[]
}

interface MessageLike {
  caller: Address
  to?: Address
  depth: number
  delegatecall?: boolean
}

interface ResultLike {
  execResult: { exceptionError?: unknown }
}

/**
 * Follows one EVM's call frames so that the precompile knows its immediate caller, and so that records of
 * inferences inside a frame that later reverts are dropped with it. The transaction's surviving records
 * are taken with {@link CallTracker.takeTx} after it ran.
 *
 * It also carries a node-local failure (model bytes not obtainable here) out of the EVM: the precompile
 * never throws (ethereumjs would leave its frame checkpoints open), it marks the failure with
 * {@link CallTracker.markLocalFailure}, and when the top-level message ends this tracker throws it. By then
 * every frame has closed its own checkpoint, so only runTx's checkpoints are open and runTx reverts them:
 * the transaction is refused (block building), the call fails (eth_call) or the import stops.
 */
export class CallTracker {
  private readonly frames: Frame[] = []
  private done: PendingRecord[] = []
  private localFailure?: Error

  constructor(evm: EVMInterface) {
    const events = evm.events!
    events.on('beforeMessage', (msg: MessageLike) => {
      // a new transaction (or a call after one that threw half-way) starts from nothing
      if (msg.depth === 0) {
        this.frames.length = 0
        this.done = []
        this.localFailure = undefined
      }
      this.frames.push({ caller: msg.caller, to: msg.to, delegatecall: msg.delegatecall === true, records: [] })
    })
    events.on('afterMessage', (res: ResultLike) => {
      const frame = this.frames.pop()
      if (!frame) return
      if (this.frames.length === 0 && this.localFailure) {
        // the top-level message is over and its checkpoint closed: safe to unwind from here
        const err = this.localFailure
        this.localFailure = undefined
        this.done = []
        throw err
      }
      if (res.execResult.exceptionError) return
      const parent = this.frames[this.frames.length - 1]
      if (parent) parent.records.push(...frame.records)
      else this.done.push(...frame.records)
    })
  }

  /** The caller of the frame now executing (the precompile's own message). */
  currentCaller(): Address | undefined {
    return this.frames[this.frames.length - 1]?.caller
  }

  /**
   * How the frame now executing reached the precompile at `precompile` (lowercase hex): 'call' when its code
   * address is its own address, otherwise 'delegatecall' or 'callcode' (another contract's context).
   */
  currentCallKind(precompile: string): 'call' | 'delegatecall' | 'callcode' | undefined {
    const f = this.frames[this.frames.length - 1]
    if (!f) return undefined
    if (f.delegatecall) return 'delegatecall'
    if (f.to && f.to.toString().toLowerCase() !== precompile) return 'callcode'
    return 'call'
  }

  /** A failure local to this node (the call cannot be judged here); thrown when the top-level message ends. */
  markLocalFailure(err: Error): void {
    this.localFailure ??= err
  }

  /** Record an inference in the frame now executing. */
  record(r: PendingRecord): void {
    this.frames[this.frames.length - 1]?.records.push(r)
  }

  /** The records of the last top-level message, indexed; empties the list. */
  takeTx(): InferenceRecord[] {
    const out = this.done.map((r, index) => ({ index, ...r }))
    this.done = []
    return out
  }

  /** Forget everything (a transaction that threw before finishing). */
  reset(): void {
    this.frames.length = 0
    this.done = []
    this.localFailure = undefined
  }
}
