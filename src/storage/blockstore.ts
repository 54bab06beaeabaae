import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import type { CID } from 'multiformats/cid'
import { BlockNotFoundError } from './errors.ts'

/** A 256 KiB leaf plus room for a dag-pb/UnixFS wrapper (v0 leaves) in one read. */
const READ_GUESS = 262_144 + 1024

interface Sharding {
  encode(cid: CID): { dir: string; file: string }
}

/**
 * The store's layout before packs (pack.ts): the embedded store reads a datadir's `blocks/` through it, and the
 * Kubo test fixture keeps its blocks in it. blockstore-fs with a faster `put` (no per-block mkdir, plain temp file + rename) and a whole-block
 * `getBytes`. The on-disk layout is blockstore-fs's own, so either class opens the same repo.
 */
export class LatticeBlockstore extends FsBlockstore {
  readonly #dirs = new Set<string>()
  readonly #tag = randomBytes(4).toString('hex')
  #seq = 0

  #location(cid: CID): { dir: string; file: string } {
    const { dir, file } = (this as unknown as { shardingStrategy: Sharding }).shardingStrategy.encode(cid)
    const d = join(this.path, dir)
    return { dir: d, file: join(d, file) }
  }

  /**
   * Write a block. New blocks are created in place with O_EXCL (no temp file + rename: creating files is
   * what bounds add speed here, and the rename cost ~1.5x). That is safe because blocks are content
   * addressed and every read is verified: a block torn by a crash reads as corrupt and is replaced, never
   * served. An existing block is left alone when intact, and replaced atomically (temp + rename) when not.
   */
  override async put(cid: CID, bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<CID> {
    opts?.signal?.throwIfAborted()
    const { dir, file } = this.#location(cid)
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true })
      this.#dirs.add(dir)
    }
    try {
      await writeFile(file, bytes, { flag: 'wx' })
      return cid
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        // the shard directory was removed underneath us (gc): recreate it and retry once
        this.#dirs.delete(dir)
        await mkdir(dir, { recursive: true })
        this.#dirs.add(dir)
        return this.put(cid, bytes, opts)
      }
      if (code !== 'EEXIST') throw err
    }
    const existing = await readFile(file).catch(() => undefined)
    if (existing && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(existing)) return cid
    await this.replace(cid, bytes)
    return cid
  }

  /** Atomically replace a block's file (temp + rename), e.g. when repairing a corrupt block. */
  async replace(cid: CID, bytes: Uint8Array): Promise<void> {
    const { dir, file } = this.#location(cid)
    await mkdir(dir, { recursive: true })
    const tmp = `${file}.${this.#tag}-${this.#seq++}.tmp`
    try {
      await writeFile(tmp, bytes)
      await rename(tmp, file)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
  }

  /** The stored bytes of one block, unverified; BlockNotFoundError when absent. */
  async getBytes(cid: CID, opts?: { signal?: AbortSignal }): Promise<Uint8Array> {
    opts?.signal?.throwIfAborted()
    let fh: Awaited<ReturnType<typeof open>>
    try {
      fh = await open(this.#location(cid).file, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlockNotFoundError(cid.toString(), err)
      throw err
    }
    try {
      // one read sized for the largest block this profile writes (open + read + close, no fstat);
      // anything bigger falls back to reading the whole file
      const buf = Buffer.allocUnsafe(READ_GUESS)
      const { bytesRead } = await fh.read(buf, 0, READ_GUESS, 0)
      if (bytesRead < READ_GUESS) return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead)
      const all = await fh.readFile()
      return new Uint8Array(all.buffer, all.byteOffset, all.byteLength)
    } finally {
      await fh.close()
    }
  }

  /** Filesystem path of a block (tests use it to corrupt blocks on purpose). */
  blockPath(cid: CID): string {
    return this.#location(cid).file
  }
}
