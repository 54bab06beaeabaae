// Group commit with a raw-block write-ahead log, for one chain. An automined block is appended to the log
// (wal.ts) before it is acknowledged, its writes stay staged (group-commit.ts), and every ~200 ms (and on close) one
// synced batch takes everything staged to LevelDB, after which the log segments it covers are deleted.
//
// The snapshot of what a group commit covers is taken inside the chain lock, where no block is half-committed:
// every block in the rotated log segments then has all its writes in the batch. The LevelDB write itself runs
// outside the lock, so mining goes on meanwhile.
import { join } from 'node:path'
import type { Block } from '@ethereumjs/block'
import type { GroupCommit } from './group-commit.ts'
import type { Mutex } from './mutex.ts'
import { walCrashAfterAppend, walFlushMs } from './test-wal-crash.ts'
import { BlockWal } from './wal.ts'

/** Default time between group commits. */
export const GROUP_COMMIT_MS = 200

/** Options of {@link WalCommit.open}. */
export interface WalCommitOpts {
  /** Node data directory; the log lives in `<datadir>/wal`. */
  datadir: string
  group: GroupCommit
  /** The chain lock (group commits snapshot under it). */
  lock: Mutex
  /** Time between group commits (default {@link GROUP_COMMIT_MS}). */
  intervalMs?: number
  /**
   * fdatasync each append (default false). Without it an acknowledged block survives a crash of the process (the
   * page cache keeps the append), not a power loss, which is what LevelDB's own unsynced writes gave before; with
   * it, every block waits for the disk: 0.4-0.6 ms per append on a quiet machine, 6-12 ms on average (up to 300 ms)
   * at load 14 here (docs/benchmarks.md).
   */
  sync?: boolean
}

/** Group commits and failures, for measurement. */
export interface WalCommitStats {
  commits: number
  failures: number
  lastError?: unknown
}

/** The write-ahead log and the group-commit timer of one chain. */
export class WalCommit {
  readonly stats: WalCommitStats = { commits: 0, failures: 0 }
  private timer?: NodeJS.Timeout
  private ticking = false
  private readonly crashAfter = walCrashAfterAppend()

  private constructor(
    readonly wal: BlockWal,
    private readonly group: GroupCommit,
    private readonly lock: Mutex,
    private readonly intervalMs: number,
  ) {}

  /** Open the log of `opts.datadir`; returns the records it holds (blocks to replay) with it. */
  static async open(opts: WalCommitOpts): Promise<{ commit: WalCommit; records: Uint8Array[] }> {
    const { wal, records } = await BlockWal.open({ dir: join(opts.datadir, 'wal'), sync: opts.sync ?? false })
    const commit = new WalCommit(wal, opts.group, opts.lock, walFlushMs(opts.intervalMs ?? GROUP_COMMIT_MS))
    return { commit, records }
  }

  /** Start the group-commit timer (it does not keep the process alive). */
  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.tick(), this.intervalMs)
    this.timer.unref()
  }

  /**
   * Append `block` to the log, then run `commit` (which stores it) with its block and meta writes left for the next
   * group commit. Call inside the chain lock.
   */
  async logged<T>(block: Block, commit: () => Promise<T>): Promise<T> {
    this.wal.append(block.serialize())
    if (this.crashAfter !== undefined && this.wal.stats.appends >= this.crashAfter) process.kill(process.pid, 'SIGKILL')
    try {
      return await this.group.deferred(commit)
    } catch (err) {
      // the block is logged but not stored: commit everything before it and empty the log, so that a replay
      // cannot bring back a block the chain gave up
      await this.settleLocked()
      throw err
    }
  }

  /** A group commit now, waiting for it: for head changes the log cannot replay (resets). Call inside the chain lock. */
  async settleLocked(): Promise<void> {
    await this.complete(this.detach())
  }

  /** Stop the timer and commit what is staged. Call inside the chain lock. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.settleLocked()
    this.wal.close()
  }

  /** Start a synced batch of everything staged and close the log segments it will cover. */
  private detach(): { done: Promise<void>; segments: ReturnType<BlockWal['rotate']> } {
    return { done: this.group.flush({ sync: true }), segments: this.wal.rotate() }
  }

  /** Wait for a detached batch, then drop the segments it covers; on failure the writes are staged again and
   * the segments stay until a later commit covers them. */
  private async complete({ done, segments }: ReturnType<WalCommit['detach']>): Promise<void> {
    try {
      await done
    } catch (err) {
      this.wal.restore(segments)
      throw err
    }
    await this.wal.drop(segments)
    this.stats.commits++
  }

  private async tick(): Promise<void> {
    if (this.ticking || (this.group.pending === 0 && this.wal.isEmpty)) return
    this.ticking = true
    try {
      // detach the batch and close the log segment together, between two blocks
      await this.complete(await this.lock.run(async () => this.detach()))
    } catch (err) {
      this.stats.failures++
      this.stats.lastError = err
    } finally {
      this.ticking = false
    }
  }
}
