// `get` to a file from the pack: raw leaves are read into reused SharedArrayBuffer slots, verified on the
// hash workers and written at their file offset, many leaves at once and in any order. The streaming
// `cat` path allocated a fresh 256 KiB buffer per block (page faults: the kernel zeroes every new page)
// and hashed on the main thread in line with the writes; this path does neither. Anything that is not a
// raw leaf in the pack (interior nodes, v0 leaves, blocks from blocks/ or from peers) goes through the
// store's verified getter, which also repairs.
import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import { decodeNode, type VerifiedBlockGetter } from './dag.ts'
import { NotAFileError } from './errors.ts'
import type { HashPool } from './hash-pool.ts'
import { Slots } from './leaves.ts'
import { CHUNK_SIZE } from './profile.ts'
import type { AddResult, IoOptions } from './types.ts'

const RAW_CODE = 0x55
const SHA2_256 = 0x12
/** Leaves in flight (read, hash or write); 8 MiB of slots. */
const IN_FLIGHT = 32

/** Where leaves come from without allocating: the pack. */
export interface LeafReader {
  readInto(cid: CID, into: Uint8Array): Promise<number | undefined>
}

type Segment = { raw: CID; pos: number } | { data: Uint8Array; pos: number }

/** The file's pieces in order: raw leaves by CID, and bytes carried by dag-pb nodes themselves. */
async function* segments(get: VerifiedBlockGetter, root: CID, opts: IoOptions): AsyncGenerator<Segment> {
  const stack: { cid: CID; pos: number }[] = [{ cid: root, pos: 0 }]
  while (stack.length > 0) {
    opts.signal?.throwIfAborted()
    const { cid, pos } = stack.pop()!
    if (cid.code === RAW_CODE && cid.multihash.code === SHA2_256) {
      yield { raw: cid, pos }
      continue
    }
    const node = decodeNode(cid, await get(cid, opts))
    if (node.type !== 'file')
      throw new NotAFileError(cid.toString(), node.type === 'directory' ? 'directory' : 'non-file node')
    let p = pos
    if (node.data.byteLength > 0) {
      yield { data: node.data, pos: p }
      p += node.data.byteLength
    }
    const kids: { cid: CID; pos: number }[] = []
    for (const child of node.children) {
      kids.push({ cid: child.cid, pos: p })
      p += child.size
    }
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i])
  }
}

/** Whether the DAG under `root` has raw leaves (kubo-v1): the first child down to the leaves tells. */
export async function hasRawLeaves(get: VerifiedBlockGetter, root: CID, opts: IoOptions = {}): Promise<boolean> {
  for (let cid = root; ; ) {
    if (cid.code === RAW_CODE) return true
    const node = decodeNode(cid, await get(cid, opts))
    if (node.type !== 'file' || node.children.length === 0) return false
    cid = node.children[0].cid
  }
}

/** Write the file under `root` to `path` (temp file + rename: never a torn file). */
export async function exportFile(
  reader: LeafReader,
  get: VerifiedBlockGetter,
  pool: HashPool,
  root: CID,
  path: string,
  opts: IoOptions & { total?: number } = {},
): Promise<AddResult> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.part`
  const fh = await open(tmp, 'w')
  const slots = new Slots(IN_FLIGHT)
  const inflight = new Set<Promise<unknown>>()
  let failure: unknown
  let end = 0
  let done = 0
  const cid = root.toString()
  const write = async (bytes: Uint8Array, pos: number) => {
    let off = 0
    while (off < bytes.byteLength) off += (await fh.write(bytes, off, bytes.byteLength - off, pos + off)).bytesWritten
    end = Math.max(end, pos + bytes.byteLength)
    done += bytes.byteLength
    opts.onProgress?.({ op: 'get', done, total: opts.total, cid })
  }
  const leaf = async (c: CID, pos: number, slot: number) => {
    try {
      const view = slots.view(slot)
      const n = await reader.readInto(c, view)
      if (n !== undefined) {
        const digest = await pool.digest(slots.buf, slot * CHUNK_SIZE, n)
        if (Buffer.from(digest).equals(c.multihash.digest)) return await write(view.subarray(0, n), pos)
      }
      // not in the pack, or not intact there: the verified getter fetches, repairs or throws
      await write(await get(c, opts), pos)
    } finally {
      slots.give(slot)
    }
  }
  try {
    for await (const seg of segments(get, root, opts)) {
      if (failure) break
      let p: Promise<unknown>
      if ('data' in seg) p = write(seg.data, seg.pos)
      else {
        const slot = await slots.take()
        p = leaf(seg.raw, seg.pos, slot)
      }
      const tracked: Promise<unknown> = p.then(
        () => inflight.delete(tracked),
        (err) => {
          inflight.delete(tracked)
          failure ??= err
        },
      )
      inflight.add(tracked)
    }
    await Promise.all(inflight)
    if (failure) throw failure
    await fh.close()
    await rename(tmp, path)
  } catch (err) {
    await Promise.allSettled(inflight)
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
  return { cid, size: end }
}
