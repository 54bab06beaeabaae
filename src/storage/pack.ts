// Pack blockstore: every block of the repo in one append-only data file plus a fixed-size index log, so a
// 1 GiB model is two files instead of 4,096. Creating one file per 256 KiB block is what capped `add` at
// ~0.3x of the sha256 bound (docs/benchmarks.md "Storage"); the data is the same bytes under the same CIDs.
import { mkdir, open, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { BaseBlockstore } from 'blockstore-core/base'
import type { Pair } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { LatticeBlockstore } from './blockstore.ts'
import { BlockNotFoundError, PackStoreError } from './errors.ts'

type Handle = Awaited<ReturnType<typeof open>>

/**
 * One index entry, 64 bytes: [0] kind (1 put, 2 delete), [1] multihash length, [2..43] multihash,
 * [44..51] data offset (u64 LE), [52..55] length (u32 LE), [56..59] zero, [60..63] crc32 of [0..59].
 * Fixed size so a torn or zero-filled entry is found by its checksum and skipped without losing the rest.
 */
const ENTRY = 64
const MH_MAX = 42
const KIND_PUT = 1
const KIND_DELETE = 2
const RAW_CODE = 0x55
const IDENTITY = 0x00

/** What open() found wrong and dropped (tests and logs read it). */
export interface PackRecovery {
  /** Index entries with a bad checksum, an unknown kind, or data past the end of the data file. */
  droppedEntries: number
  /** Bytes of a partial trailing index entry cut off. */
  truncatedIndexBytes: number
  /** Unindexed bytes at the end of the data file cut off (a block written but never indexed). */
  truncatedDataBytes: number
}

interface Loc {
  offset: number
  length: number
}

function keyOf(cid: CID): string {
  return Buffer.from(cid.multihash.bytes).toString('latin1')
}

function encodeEntry(kind: number, mh: Uint8Array, loc: Loc): Buffer {
  const e = Buffer.alloc(ENTRY)
  e[0] = kind
  e[1] = mh.byteLength
  e.set(mh, 2)
  e.writeBigUInt64LE(BigInt(loc.offset), 44)
  e.writeUInt32LE(loc.length, 52)
  e.writeUInt32LE(crc32(e.subarray(0, 60)), 60)
  return e
}

/**
 * `<dir>/blocks.pack` (data) and `<dir>/blocks.idx` (index log). Writes reserve their data range and index
 * slot up front and run in parallel with positional writes; both files are opened `r+` (Linux ignores the
 * position of a positional write on an O_APPEND file and appends, which interleaves concurrent blocks).
 * A block is indexed only after its data write finished, so a crash leaves at worst unindexed data or a
 * torn/zero index entry, both dropped by the next open. Reads are not verified here: the store verifies
 * every block against its CID (dag.ts verifyBlock). A legacy blockstore-fs directory, when given, is read
 * as a fallback so datadirs written before packs keep working; new blocks always go to the pack.
 */
export class PackBlockstore extends BaseBlockstore {
  /** put() never keeps a reference to the bytes it is given once it resolves. */
  readonly copiesOnPut = true
  readonly #index = new Map<string, Loc>()
  readonly #pending = new Map<string, Promise<unknown>>()
  #data?: Handle
  #idx?: Handle
  #dataEnd = 0
  #idxEnd = 0
  #recovery: PackRecovery = { droppedEntries: 0, truncatedIndexBytes: 0, truncatedDataBytes: 0 }

  constructor(
    readonly dir: string,
    readonly legacy?: LatticeBlockstore,
  ) {
    super()
  }

  get dataPath(): string {
    return join(this.dir, 'blocks.pack')
  }

  get indexPath(): string {
    return join(this.dir, 'blocks.idx')
  }

  get recovery(): PackRecovery {
    return { ...this.#recovery }
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    this.#data = await openRw(this.dataPath)
    this.#idx = await openRw(this.indexPath)
    await this.#load()
    await this.legacy?.open()
  }

  async #load(): Promise<void> {
    const data = this.#data!
    const idx = this.#idx!
    const dataSize = (await data.stat()).size
    const idxSize = (await idx.stat()).size
    const whole = idxSize - (idxSize % ENTRY)
    const raw = Buffer.alloc(whole)
    if (whole > 0) await idx.read(raw, 0, whole, 0)
    let dropped = 0
    let dataEnd = 0
    for (let p = 0; p < whole; p += ENTRY) {
      const e = raw.subarray(p, p + ENTRY)
      const mhLen = e[1]
      const ok = (e[0] === KIND_PUT || e[0] === KIND_DELETE) && mhLen > 0 && mhLen <= MH_MAX
      if (!ok || e.readUInt32LE(60) !== crc32(e.subarray(0, 60))) {
        dropped++
        continue
      }
      const key = e.subarray(2, 2 + mhLen).toString('latin1')
      if (e[0] === KIND_DELETE) {
        this.#index.delete(key)
        continue
      }
      const offset = Number(e.readBigUInt64LE(44))
      const length = e.readUInt32LE(52)
      if (offset + length > dataSize) {
        dropped++
        continue
      }
      this.#index.set(key, { offset, length })
      dataEnd = Math.max(dataEnd, offset + length)
    }
    this.#recovery = {
      droppedEntries: dropped,
      truncatedIndexBytes: idxSize - whole,
      truncatedDataBytes: Math.max(0, dataSize - dataEnd),
    }
    if (dataSize > dataEnd) await data.truncate(dataEnd)
    this.#dataEnd = dataEnd
    if (dropped > 0 || idxSize !== whole) await this.#rewriteIndex()
    else this.#idxEnd = whole
  }

  /** Write the live index afresh (temp + rename), so later appends never follow a bad entry. */
  async #rewriteIndex(): Promise<void> {
    const tmp = `${this.indexPath}.tmp`
    const out = await open(tmp, 'w')
    try {
      const entries = [...this.#index].map(([k, loc]) => encodeEntry(KIND_PUT, Buffer.from(k, 'latin1'), loc))
      const all = Buffer.concat(entries)
      await out.write(all, 0, all.byteLength, 0)
      await out.sync()
      this.#idxEnd = all.byteLength
    } finally {
      await out.close()
    }
    await this.#idx!.close()
    await rename(tmp, this.indexPath)
    this.#idx = await openRw(this.indexPath)
  }

  #handles(): { data: Handle; idx: Handle } {
    if (!this.#data || !this.#idx) throw new PackStoreError(this.dir, 'not open')
    return { data: this.#data, idx: this.#idx }
  }

  override async put(
    cid: CID,
    val: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    opts?: { signal?: AbortSignal },
  ): Promise<CID> {
    opts?.signal?.throwIfAborted()
    // the blockstore interface allows a block in pieces (Helia); our own writers pass one array
    let bytes: Uint8Array
    if (val instanceof Uint8Array) bytes = val
    else {
      const parts: Uint8Array[] = []
      for await (const part of val) parts.push(part)
      bytes = Buffer.concat(parts)
    }
    const mh = cid.multihash
    if (mh.code === IDENTITY) return cid // the bytes are the CID itself
    if (mh.bytes.byteLength > MH_MAX) throw new PackStoreError(this.dir, `multihash of ${cid} is too long to index`)
    const key = keyOf(cid)
    const pending = this.#pending.get(key)
    if (pending) {
      await pending
      return cid
    }
    const p = this.#write(key, mh.bytes, bytes)
    this.#pending.set(key, p)
    try {
      await p
    } finally {
      this.#pending.delete(key)
    }
    return cid
  }

  async #write(key: string, mh: Uint8Array, bytes: Uint8Array): Promise<void> {
    const { data, idx } = this.#handles()
    const have = this.#index.get(key)
    if (have && have.length === bytes.byteLength) {
      // an intact copy stays; a corrupt one (bit rot, torn write) gets a fresh copy that the index prefers
      const old = await this.#readAt(have)
      if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(old)) return
    }
    const loc = { offset: this.#dataEnd, length: bytes.byteLength }
    this.#dataEnd += bytes.byteLength
    let done = 0
    while (done < bytes.byteLength) {
      const { bytesWritten } = await data.write(bytes, done, bytes.byteLength - done, loc.offset + done)
      done += bytesWritten
    }
    const at = this.#idxEnd
    this.#idxEnd += ENTRY
    await idx.write(encodeEntry(KIND_PUT, mh, loc), 0, ENTRY, at)
    this.#index.set(key, loc)
  }

  async #readAt(loc: Loc): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(loc.length)
    let got = 0
    while (got < loc.length) {
      const { bytesRead } = await this.#handles().data.read(buf, got, loc.length - got, loc.offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    return got === loc.length ? buf : buf.subarray(0, got)
  }

  /**
   * Read a block of the pack into `into` (a reused buffer: no fresh allocation per block); its length, or
   * undefined when the pack does not hold it (a legacy or absent block) or it does not fit.
   */
  async readInto(cid: CID, into: Uint8Array): Promise<number | undefined> {
    const loc = this.#index.get(keyOf(cid))
    if (!loc || loc.length > into.byteLength) return undefined
    let got = 0
    while (got < loc.length) {
      const { bytesRead } = await this.#handles().data.read(into, got, loc.length - got, loc.offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    return got
  }

  /** The stored bytes of one block, unverified; BlockNotFoundError when absent. */
  async getBytes(cid: CID, opts?: { signal?: AbortSignal }): Promise<Uint8Array> {
    opts?.signal?.throwIfAborted()
    if (cid.multihash.code === IDENTITY) return cid.multihash.digest
    const loc = this.#index.get(keyOf(cid))
    if (loc) return this.#readAt(loc)
    if (this.legacy) return this.legacy.getBytes(cid, opts)
    throw new BlockNotFoundError(cid.toString())
  }

  override async *get(cid: CID, opts?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid, opts)
  }

  override async has(cid: CID): Promise<boolean> {
    if (cid.multihash.code === IDENTITY || this.#index.has(keyOf(cid))) return true
    return (await this.legacy?.has(cid)) ?? false
  }

  override async delete(cid: CID): Promise<void> {
    const key = keyOf(cid)
    const loc = this.#index.get(key)
    if (loc) {
      const { idx } = this.#handles()
      this.#index.delete(key)
      const at = this.#idxEnd
      this.#idxEnd += ENTRY
      await idx.write(encodeEntry(KIND_DELETE, cid.multihash.bytes, loc), 0, ENTRY, at)
    }
    if (this.legacy && (await this.legacy.has(cid))) await this.legacy.delete(cid)
  }

  /** Every block (pack first, then legacy blocks not in the pack), as raw CIDs: the index keeps multihashes. */
  override async *getAll(opts?: { signal?: AbortSignal }): AsyncGenerator<Pair> {
    for (const [key] of [...this.#index]) {
      opts?.signal?.throwIfAborted()
      const cid = CID.createV1(RAW_CODE, Digest.decode(Buffer.from(key, 'latin1')))
      if (!this.#index.has(key)) continue
      yield { cid, bytes: this.get(cid, opts) }
    }
    if (!this.legacy) return
    for await (const pair of this.legacy.getAll(opts)) {
      if (!this.#index.has(keyOf(pair.cid))) yield pair
    }
  }

  /** Where a block's bytes lie (tests corrupt blocks on purpose through it). */
  locate(cid: CID): { path: string; offset: number; length: number } | undefined {
    const loc = this.#index.get(keyOf(cid))
    return loc && { path: this.dataPath, ...loc }
  }

  /**
   * Rewrite the pack with live blocks only (after gc), temp files + rename. Blocks are copied as stored;
   * a corrupt one stays corrupt and is still caught on read.
   */
  async compact(): Promise<{ before: number; after: number }> {
    const before = this.#dataEnd
    const garbage = this.#dataEnd - [...this.#index.values()].reduce((a, l) => a + l.length, 0)
    if (garbage === 0) return { before, after: before }
    const tmpData = `${this.dataPath}.tmp`
    const tmpIdx = `${this.indexPath}.tmp`
    const out = await open(tmpData, 'w')
    const next = new Map<string, Loc>()
    let end = 0
    try {
      for (const [key, loc] of this.#index) {
        const bytes = await this.#readAt(loc)
        await out.write(bytes, 0, bytes.byteLength, end)
        next.set(key, { offset: end, length: bytes.byteLength })
        end += bytes.byteLength
      }
      await out.sync()
    } finally {
      await out.close()
    }
    const entries = [...next].map(([k, loc]) => encodeEntry(KIND_PUT, Buffer.from(k, 'latin1'), loc))
    const idxOut = await open(tmpIdx, 'w')
    try {
      const all = Buffer.concat(entries)
      await idxOut.write(all, 0, all.byteLength, 0)
      await idxOut.sync()
    } finally {
      await idxOut.close()
    }
    await this.#data?.close()
    await this.#idx?.close()
    // data first: an index that names offsets in the old data file would otherwise be dropped as out of range
    await rename(tmpData, this.dataPath)
    await rename(tmpIdx, this.indexPath)
    this.#data = await openRw(this.dataPath)
    this.#idx = await openRw(this.indexPath)
    this.#index.clear()
    for (const [k, v] of next) this.#index.set(k, v)
    this.#dataEnd = end
    this.#idxEnd = entries.length * ENTRY
    return { before, after: end }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending.values()])
    const { data, idx } = { data: this.#data, idx: this.#idx }
    this.#data = undefined
    this.#idx = undefined
    // data before index, so a block the index names is on disk first
    await data?.sync().catch(() => {})
    await idx?.sync().catch(() => {})
    await data?.close()
    await idx?.close()
    await this.legacy?.close()
  }
}

/** Open for positional reads and writes, creating the file if needed (never O_APPEND: see the class note). */
async function openRw(path: string): Promise<Handle> {
  try {
    return await open(path, 'r+')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PackStoreError(path, 'cannot open', err)
    await (await open(path, 'wx').catch(() => open(path, 'r+'))).close()
    return open(path, 'r+')
  }
}

/** Whether a datadir has a blockstore-fs `blocks/` directory (written before packs) to read from. */
export async function hasLegacyBlocks(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory()
  } catch {
    return false
  }
}
