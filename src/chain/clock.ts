import { TimestampError } from './errors.ts'
import { checkBlockTimestamp } from './timestamp-limit.ts'

/** What a snapshot keeps of the clock. */
export interface ClockState {
  timeOffset: bigint
  nextTimestamp?: bigint
  interval?: bigint
}

/**
 * The devnet's block clock (anvil's `TimeManager`): wall time plus the evm_increaseTime offset, or the
 * timestamp evm_setNextBlockTimestamp pinned for the next block.
 */
export class BlockClock {
  private timeOffset = 0n
  private nextTimestamp?: bigint
  /** anvil_setBlockTimestampInterval: each block this many seconds after its parent. */
  interval?: bigint

  /** `now` returns wall time in seconds; tests pass their own. */
  constructor(private readonly now: () => bigint = () => BigInt(Math.floor(Date.now() / 1000))) {}

  /** The next block's timestamp after a parent at `parent`, without using up a pinned timestamp. */
  peek(parent: bigint): bigint {
    const ts =
      this.nextTimestamp ?? (this.interval !== undefined ? parent + this.interval : this.now() + this.timeOffset)
    const next = ts <= parent ? parent + 1n : ts
    // a head at the limit cannot have a child: refuse (-32602) rather than build a block the chain cannot carry
    checkBlockTimestamp(next, 'the next block timestamp')
    return next
  }

  /** The next block's timestamp; a pinned one is used up. */
  take(parent: bigint): bigint {
    const ts = this.peek(parent)
    this.nextTimestamp = undefined
    return ts
  }

  /** evm_increaseTime: move the clock forward; returns the total offset in seconds. */
  increase(seconds: bigint): bigint {
    this.timeOffset += seconds
    return this.timeOffset
  }

  /** evm_setNextBlockTimestamp: pin the next block's timestamp; it must be after the head's (`head`). */
  setNext(ts: bigint, head: bigint): void {
    if (ts <= head) {
      throw new TimestampError(`timestamp ${ts} is not after the current head's timestamp ${head}`)
    }
    this.nextTimestamp = ts
    // later blocks keep counting from the new time, as Hardhat and anvil do
    this.timeOffset = ts - this.now()
  }

  save(): ClockState {
    return { timeOffset: this.timeOffset, nextTimestamp: this.nextTimestamp, interval: this.interval }
  }

  restore(state: ClockState): void {
    this.timeOffset = state.timeOffset
    this.nextTimestamp = state.nextTimestamp
    this.interval = state.interval
  }
}
