import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import type { CID } from 'multiformats/cid'
import { BlockNotFoundError } from './errors.ts'

interface Sharding {
  encode(cid: CID): { dir: string; file: string }
}

/**
 * blockstore-fs with a faster `put` (no per-block mkdir, plain temp file + rename) and a whole-block
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

  override async put(cid: CID, bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<CID> {
    opts?.signal?.throwIfAborted()
    const { dir, file } = this.#location(cid)
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true })
      this.#dirs.add(dir)
    }
    // temp + rename: a reader never sees half a block, and two writers of the same block both succeed
    const tmp = `${file}.${this.#tag}-${this.#seq++}.tmp`
    try {
      await writeFile(tmp, bytes)
      await rename(tmp, file)
    } catch (err) {
      await rm(tmp, { force: true })
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // the shard directory was removed underneath us (gc); recreate it once
        this.#dirs.delete(dir)
        await mkdir(dir, { recursive: true })
        await writeFile(tmp, bytes)
        await rename(tmp, file)
      } else {
        throw err
      }
    }
    return cid
  }

  /** The stored bytes of one block, unverified; BlockNotFoundError when absent. */
  async getBytes(cid: CID, opts?: { signal?: AbortSignal }): Promise<Uint8Array> {
    try {
      const buf = await readFile(this.#location(cid).file, { signal: opts?.signal })
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlockNotFoundError(cid.toString(), err)
      throw err
    }
  }

  /** Filesystem path of a block (tests use it to corrupt blocks on purpose). */
  blockPath(cid: CID): string {
    return this.#location(cid).file
  }
}
