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
  records: PendingRecord[]
}

interface MessageLike {
  caller: Address
  depth: number
}

interface ResultLike {
  execResult: { exceptionError?: unknown }
}

/**
 * Follows one EVM's call frames so that the precompile knows its immediate caller, and so that records of
 * inferences inside a frame that later reverts are dropped with it. The transaction's surviving records
 * are taken with {@link CallTracker.takeTx} after it ran.
 */
export class CallTracker {
  private readonly frames: Frame[] = []
  private done: PendingRecord[] = []

  constructor(evm: EVMInterface) {
    const events = evm.events!
    events.on('beforeMessage', (msg: MessageLike) => {
      // a new transaction (or a call after one that threw half-way) starts from nothing
      if (msg.depth === 0) {
        this.frames.length = 0
        this.done = []
      }
      this.frames.push({ caller: msg.caller, records: [] })
    })
    events.on('afterMessage', (res: ResultLike) => {
      const frame = this.frames.pop()
      if (!frame) return
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
  }
}
