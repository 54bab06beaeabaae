// The raw-block write-ahead log: the RLP of every automined block is appended here (fdatasync'd on request) before the
// block is acknowledged, while its state and block writes wait in memory for the next group commit
// (group-commit.ts). A kill -9 between the two loses nothing: at start the blocks of the log that the database
// does not have are imported again (wal-replay.ts).
//
// Layout: a folder of segments `<seq>.log`, each a sequence of records [u32 length][u32 crc32][payload]. Appends go
// to the newest segment; a group commit closes it (`rotate`) and deletes the closed ones once the database holds
// every block they log (`drop`), so the log never needs truncating in place. A record cut short by a crash (or
// whose checksum does not match) ends the log: it and everything after it are dropped on open.
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'

const HEADER = 8
const SEGMENT = /^(\d{12})\.log$/

/** Options of {@link BlockWal.open}. */
export interface BlockWalOpts {
  /** The log's folder (created if needed). */
  dir: string
  /** fdatasync every append (default true here; the chain passes its own choice, wal-commit.ts). */
  sync?: boolean
}

/** A closed (or current) segment, to delete once the database holds what it logs. */
export interface WalSegment {
  readonly path: string
  fd?: number
}

/** Appends, bytes and the time spent in fdatasync, for measurement. */
export interface WalStats {
  appends: number
  bytes: number
  syncMs: number
  maxSyncMs: number
}

/** The write-ahead log of one datadir. Appends and rotations must not overlap (the chain lock orders them). */
export class BlockWal {
  readonly stats: WalStats = { appends: 0, bytes: 0, syncMs: 0, maxSyncMs: 0 }
  private current?: WalSegment
  private closed: WalSegment[] = []

  private constructor(
    readonly dir: string,
    private readonly sync: boolean,
    private next: number,
    existing: WalSegment[],
  ) {
    this.closed = existing
  }

  /**
   * Open the log in `opts.dir` and read the records it holds, in order. A torn or corrupt record ends the log: the
   * file is cut back to the last whole record and later segments are deleted, so new appends follow good ones.
   */
  static async open(opts: BlockWalOpts): Promise<{ wal: BlockWal; records: Uint8Array[] }> {
    await mkdir(opts.dir, { recursive: true })
    const names = (await readdir(opts.dir)).filter((n) => SEGMENT.test(n)).sort()
    const records: Uint8Array[] = []
    const segments: WalSegment[] = []
    let torn = false
    for (const name of names) {
      const path = join(opts.dir, name)
      if (torn) {
        await rm(path, { force: true })
        continue
      }
      const bytes = await readFile(path)
      const { payloads, goodLength } = parseSegment(bytes)
      records.push(...payloads)
      segments.push({ path })
      if (goodLength < bytes.length) {
        torn = true
        await truncate(path, goodLength)
      }
    }
    const last = names.length > 0 ? Number(SEGMENT.exec(names[names.length - 1])![1]) : 0
    return { wal: new BlockWal(opts.dir, opts.sync ?? true, last + 1, segments), records }
  }

  /**
   * Append one record to the current segment and (by default) fdatasync it before returning. Synchronous on
   * purpose: an async write waits for a libuv threadpool thread, and LevelDB's batches occupy those (measured at
   * load 14: 6-14 ms per append on average, up to 280 ms, against 0.1-0.5 ms for a synchronous write).
   */
  append(payload: Uint8Array): void {
    if (!this.current) {
      const path = join(this.dir, `${String(this.next++).padStart(12, '0')}.log`)
      this.current = { path, fd: openSync(path, 'a') }
    }
    const record = Buffer.allocUnsafe(HEADER + payload.length)
    record.writeUInt32LE(payload.length, 0)
    record.writeUInt32LE(crc32(payload), 4)
    record.set(payload, HEADER)
    writeSync(this.current.fd!, record)
    if (this.sync) {
      const t = performance.now()
      // the file only grows: fdatasync skips the metadata flush that fsync would add for mtime
      fdatasyncSync(this.current.fd!)
      const ms = performance.now() - t
      this.stats.syncMs += ms
      if (ms > this.stats.maxSyncMs) this.stats.maxSyncMs = ms
    }
    this.stats.appends++
    this.stats.bytes += record.length
  }

  /** Whether anything was appended since the last rotation, or segments wait to be dropped. */
  get isEmpty(): boolean {
    return this.current === undefined && this.closed.length === 0
  }

  /**
   * Close the current segment and return every segment written so far: the caller deletes them (`drop`) once the
   * database durably holds everything appended before this call. Later appends start a new segment.
   */
  rotate(): WalSegment[] {
    const out = this.closed
    if (this.current) out.push(this.current)
    this.closed = []
    this.current = undefined
    return out
  }

  /** Take back segments returned by `rotate` whose group commit failed: a later rotation returns them again. */
  restore(segments: WalSegment[]): void {
    this.closed = [...segments, ...this.closed]
  }

  /** Delete segments returned by `rotate`. */
  async drop(segments: WalSegment[]): Promise<void> {
    for (const s of segments) {
      if (s.fd !== undefined) closeSync(s.fd)
      s.fd = undefined
      await rm(s.path, { force: true })
    }
  }

  /** Close the current segment without deleting anything (a later open reads it again). */
  close(): void {
    if (this.current?.fd !== undefined) closeSync(this.current.fd)
    this.current = undefined
  }
}

/** The whole records at the start of a segment, and how many bytes they span. */
export function parseSegment(bytes: Uint8Array): { payloads: Uint8Array[]; goodLength: number } {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const payloads: Uint8Array[] = []
  let at = 0
  while (at + HEADER <= view.length) {
    const length = view.readUInt32LE(at)
    const sum = view.readUInt32LE(at + 4)
    if (at + HEADER + length > view.length) break
    const payload = view.subarray(at + HEADER, at + HEADER + length)
    if (crc32(payload) !== sum) break
    payloads.push(Uint8Array.from(payload))
    at += HEADER + length
  }
  return { payloads, goodLength: at }
}
