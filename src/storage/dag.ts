// UnixFS DAG plumbing shared by both backends: import with the pinned profile, verified block reads,
// windowed streaming reads with a bounded prefetch. No helia here: this is what keeps start-up fast.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat as fsStat } from 'node:fs/promises'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importer } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import {
  CorruptBlockError,
  InvalidCidError,
  InvalidStorageOptionError,
  NotAFileError,
  UnsupportedHashError,
} from './errors.ts'
import { type HashPool, sharedHashPool } from './hash-pool.ts'
import { type Leaf, mainThreadLeaves, pooledLeaves } from './leaves.ts'
import { CHUNK_SIZE, importerOptions, MAX_CHILDREN_PER_NODE } from './profile.ts'
import type { AddResult, AddSource, CidVersion, IoOptions, ReadOptions, StatResult } from './types.ts'

const RAW_CODE = 0x55
const SHA2_256 = 0x12
const IDENTITY = 0x00

/** Parse a CID string (or pass a CID through); InvalidCidError on garbage. */
export function parseCid(cid: string | CID): CID {
  if (typeof cid !== 'string') return cid
  try {
    return CID.parse(cid.trim())
  } catch (err) {
    throw new InvalidCidError(cid, err)
  }
}

/** Throw CorruptBlockError unless `bytes` hash to `cid`'s multihash. */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  const mh = cid.multihash
  if (mh.code === SHA2_256) {
    const digest = createHash('sha256').update(bytes).digest()
    if (digest.length === mh.digest.length && digest.equals(mh.digest)) return
    throw new CorruptBlockError(
      cid.toString(),
      `sha2-256 of the ${bytes.length} stored bytes is ${digest.toString('hex')}`,
    )
  }
  if (mh.code === IDENTITY) {
    if (Buffer.from(mh.digest).equals(bytes)) return
    throw new CorruptBlockError(cid.toString())
  }
  throw new UnsupportedHashError(cid.toString(), mh.code)
}

/** Fetch one block, already verified against its CID. */
export type VerifiedBlockGetter = (cid: CID, opts?: IoOptions) => Promise<Uint8Array>

/** Anything with the importer's `put`. */
export interface BlockSink {
  put(cid: CID, bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<CID>
  /** True when put() is done with the bytes once it resolves (they may then be reused by the caller). */
  readonly copiesOnPut?: boolean
}

/** Normalise an AddSource into chunks plus a known total when there is one. */
export async function openSource(
  source: AddSource,
  opts: { signal?: AbortSignal; size?: number } = {},
): Promise<{ chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>; total?: number }> {
  opts.signal?.throwIfAborted()
  if (source instanceof Uint8Array) return { chunks: [source], total: source.byteLength }
  if (typeof source === 'object' && source !== null && 'path' in source && typeof source.path === 'string') {
    const st = await fsStat(source.path)
    if (!st.isFile()) throw new InvalidStorageOptionError('file', source.path, 'a regular file')
    // no `signal` here: metered() checks it per chunk, and an unconsumed stream must not emit a stray error
    return { chunks: createReadStream(source.path, { highWaterMark: 1 << 20 }), total: st.size }
  }
  return { chunks: source as AsyncIterable<Uint8Array>, total: opts.size }
}

/** Count bytes, honour the signal and report progress while a source is consumed. */
export async function* metered(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: IoOptions & { total?: number; op?: 'add' | 'get' },
): AsyncGenerator<Uint8Array> {
  let done = 0
  opts.onProgress?.({ op: opts.op ?? 'add', done, total: opts.total })
  for await (const chunk of chunks) {
    opts.signal?.throwIfAborted()
    done += chunk.byteLength
    yield chunk
    opts.onProgress?.({ op: opts.op ?? 'add', done, total: opts.total })
  }
}

/** Inputs from this size up are hashed on worker threads (below it the hop costs more than it saves). */
const POOLED_MIN = 4 * CHUNK_SIZE

/** Import one file into `sink` with Kubo's profile for `cidVersion`. */
export async function importFile(
  sink: BlockSink,
  source: AddSource,
  opts: IoOptions & { cidVersion?: CidVersion; size?: number; writeConcurrency?: number; hashPool?: HashPool } = {},
): Promise<AddResult> {
  const cidVersion = opts.cidVersion ?? 1
  if (cidVersion === 1) return importRawLeaves(sink, await rawLeafSource(source, opts), opts)
  const { chunks, total } = await openSource(source, opts)
  let size = 0
  const counted = async function* () {
    for await (const c of metered(chunks, { ...opts, total })) {
      size += c.byteLength
      yield c
    }
  }
  let root: CID | undefined
  for await (const entry of importer([{ content: counted() }], sink, {
    ...importerOptions(cidVersion),
    blockWriteConcurrency: opts.writeConcurrency ?? 50,
    signal: opts.signal,
  } as Parameters<typeof importer>[2])) {
    root = entry.cid
  }
  if (!root) throw new InvalidStorageOptionError('source', 'empty import', 'one file')
  return { cid: root.toString(), size }
}

/** Leaves of `source`: a file of POOLED_MIN or more is read positionally and hashed on workers. */
async function rawLeafSource(
  source: AddSource,
  opts: IoOptions & { size?: number; writeConcurrency?: number; hashPool?: HashPool },
): Promise<AsyncIterable<Leaf>> {
  const writesInFlight = writeLimit(opts)
  const isPath = typeof source === 'object' && source !== null && 'path' in source && typeof source.path === 'string'
  if (isPath) {
    opts.signal?.throwIfAborted()
    const path = (source as { path: string }).path
    const st = await fsStat(path)
    if (!st.isFile()) throw new InvalidStorageOptionError('file', path, 'a regular file')
    if (st.size >= POOLED_MIN) {
      const pool = opts.hashPool ?? sharedHashPool()
      return pooledLeaves({ path }, pool, { ...opts, writesInFlight, total: st.size })
    }
  }
  const { chunks, total } = await openSource(source, opts)
  const input = metered(chunks, { ...opts, total })
  if (total !== undefined && total < POOLED_MIN) return mainThreadLeaves(input)
  return pooledLeaves({ chunks: input }, opts.hashPool ?? sharedHashPool(), { ...opts, writesInFlight })
}

function writeLimit(opts: { writeConcurrency?: number }): number {
  return Math.max(1, opts.writeConcurrency ?? 32)
}

interface Built {
  cid: CID
  /** File bytes under this node. */
  fileSize: number
  /** Cumulative DAG bytes (dag-pb link Tsize). */
  tsize: number
}

/**
 * The `kubo-v1` profile (raw 256 KiB leaves, balanced dag-pb tree of 174 links) as a streaming pipeline:
 * leaves arrive hashed (leaves.ts) and are written with up to `writeConcurrency` writes in flight, without
 * the importer's batch-by-batch stalls. Interior nodes are emitted as soon as they fill, so memory holds at
 * most 174 pending links per tree level. Produces the importer's exact blocks (test/storage/cid.test.ts).
 */
async function importRawLeaves(
  sink: BlockSink,
  leaves: AsyncIterable<Leaf>,
  opts: IoOptions & { writeConcurrency?: number },
): Promise<AddResult> {
  const limit = writeLimit(opts)
  const inflight = new Set<Promise<unknown>>()
  let failure: unknown
  const put = async (cid: CID, bytes: Uint8Array, release?: () => void) => {
    if (failure) throw failure
    // a sink that may keep the bytes gets its own copy: slot memory is reused after release
    const owned = release && !sink.copiesOnPut ? Uint8Array.prototype.slice.call(bytes) : bytes
    if (owned !== bytes) release?.()
    const p: Promise<unknown> = sink.put(cid, owned, { signal: opts.signal }).then(
      () => {
        inflight.delete(p)
        release?.()
      },
      (err) => {
        inflight.delete(p)
        release?.()
        failure ??= err
      },
    )
    inflight.add(p)
    while (inflight.size >= limit) await Promise.race(inflight)
    if (failure) throw failure
  }
  const levels: Built[][] = [[]]
  const flush = async (k: number) => {
    const group = levels[k]
    levels[k] = []
    const fs = new UnixFS({ type: 'file', blockSizes: group.map((g) => BigInt(g.fileSize)) })
    const bytes = dagPb.encode(
      dagPb.prepare({ Data: fs.marshal(), Links: group.map((g) => ({ Hash: g.cid, Name: '', Tsize: g.tsize })) }),
    )
    const cid = CID.createV1(dagPb.code, sha256Digest(bytes))
    await put(cid, bytes)
    levels[k + 1] ??= []
    levels[k + 1].push({
      cid,
      fileSize: group.reduce((a, g) => a + g.fileSize, 0),
      tsize: bytes.byteLength + group.reduce((a, g) => a + g.tsize, 0),
    })
    if (levels[k + 1].length === MAX_CHILDREN_PER_NODE) await flush(k + 1)
  }
  let size = 0
  let count = 0
  try {
    for await (const leaf of leaves) {
      size += leaf.bytes.byteLength
      count++
      const cid = CID.createV1(RAW_CODE, Digest.create(SHA2_256, leaf.digest))
      await put(cid, leaf.bytes, leaf.release)
      levels[0].push({ cid, fileSize: leaf.bytes.byteLength, tsize: leaf.bytes.byteLength })
      if (levels[0].length === MAX_CHILDREN_PER_NODE) await flush(0)
    }
    if (count === 0) {
      const empty = new Uint8Array(0)
      const cid = CID.createV1(RAW_CODE, sha256Digest(empty))
      await put(cid, empty)
      levels[0].push({ cid, fileSize: 0, tsize: 0 })
    }
    // close the tree bottom-up: a level with one node and nothing above it is the root
    let root: Built | undefined
    for (let k = 0; ; k++) {
      levels[k] ??= []
      const above = levels.slice(k + 1).some((l) => l.length > 0)
      if (!above && levels[k].length === 1) {
        root = levels[k][0]
        break
      }
      if (levels[k].length > 0) await flush(k)
    }
    await Promise.all(inflight)
    if (failure) throw failure
    return { cid: root.cid.toString(), size }
  } finally {
    // on failure, let writes that still read slot memory finish before the slots go away
    await Promise.allSettled(inflight)
  }
}

function sha256Digest(bytes: Uint8Array) {
  return Digest.create(SHA2_256, createHash('sha256').update(bytes).digest())
}

interface DecodedNode {
  /** Bytes carried by this node itself (raw block, or UnixFS data). */
  data: Uint8Array
  /** Children in order with the number of file bytes under each. */
  children: { cid: CID; size: number }[]
  type: StatResult['type']
  fileSize: number
}

/** Decode a verified block into file data and children. */
export function decodeNode(cid: CID, bytes: Uint8Array): DecodedNode {
  if (cid.code === RAW_CODE) return { data: bytes, children: [], type: 'file', fileSize: bytes.byteLength }
  if (cid.code !== dagPb.code) return { data: new Uint8Array(0), children: [], type: 'other', fileSize: 0 }
  const node = dagPb.decode(bytes)
  if (!node.Data) return { data: new Uint8Array(0), children: [], type: 'other', fileSize: 0 }
  const fs = UnixFS.unmarshal(node.Data)
  const type: StatResult['type'] =
    fs.type === 'file' || fs.type === 'raw' ? 'file' : fs.type.includes('directory') ? 'directory' : 'other'
  if (type !== 'file') {
    return { data: new Uint8Array(0), children: node.Links.map((l) => ({ cid: l.Hash, size: 0 })), type, fileSize: 0 }
  }
  const children = node.Links.map((l, i) => ({ cid: l.Hash, size: Number(fs.blockSizes[i] ?? 0n) }))
  return { data: fs.data ?? new Uint8Array(0), children, type, fileSize: Number(fs.fileSize()) }
}

/**
 * Every CID in a DAG, root first (depth-first). Interior nodes are always read; leaves (raw blocks) only
 * with `readLeaves`, which pin/has use to make sure every block is present and intact.
 */
export async function* walkDag(
  get: VerifiedBlockGetter,
  root: CID,
  opts: IoOptions & { readLeaves?: boolean } = {},
): AsyncGenerator<CID> {
  const stack: CID[] = [root]
  while (stack.length > 0) {
    opts.signal?.throwIfAborted()
    const cid = stack.pop()!
    if (cid.code !== dagPb.code) {
      if (opts.readLeaves) await get(cid, opts)
      yield cid
      continue
    }
    const node = dagPb.decode(await get(cid, opts))
    yield cid
    for (let i = node.Links.length - 1; i >= 0; i--) stack.push(node.Links[i].Hash)
  }
}

/** Type and file size of the DAG at `cid` (reads only the root block). */
export async function statNode(get: VerifiedBlockGetter, cid: CID, opts: IoOptions = {}): Promise<StatResult> {
  const n = decodeNode(cid, await get(cid, opts))
  return { cid: cid.toString(), type: n.type, size: n.fileSize }
}

/**
 * Stream a UnixFS file (or raw block) in order. Children are fetched `prefetch` at a time ahead of the
 * consumer and nothing more, so memory stays at about prefetch x 256 KiB however large the file is.
 */
export async function* readFile(
  get: VerifiedBlockGetter,
  root: CID,
  opts: ReadOptions & { prefetch?: number } = {},
): AsyncGenerator<Uint8Array> {
  const start = opts.offset ?? 0
  if (start < 0 || !Number.isSafeInteger(start)) throw new InvalidStorageOptionError('offset', start, 'an integer >= 0')
  if (opts.length !== undefined && (opts.length < 0 || !Number.isSafeInteger(opts.length))) {
    throw new InvalidStorageOptionError('length', opts.length, 'an integer >= 0')
  }
  const end = opts.length === undefined ? Number.POSITIVE_INFINITY : start + opts.length
  const prefetch = Math.max(1, opts.prefetch ?? 8)
  const io = { signal: opts.signal }

  async function* visit(cid: CID, bytes: Uint8Array, nodeStart: number): AsyncGenerator<Uint8Array> {
    const node = decodeNode(cid, bytes)
    if (node.type === 'directory' || node.type === 'other') {
      throw new NotAFileError(cid.toString(), node.type === 'directory' ? 'directory' : 'non-file node')
    }
    let pos = nodeStart
    if (node.data.byteLength > 0) {
      const a = Math.max(start, pos)
      const b = Math.min(end, pos + node.data.byteLength)
      if (a < b) yield node.data.subarray(a - pos, b - pos)
      pos += node.data.byteLength
    }
    const wanted: { cid: CID; start: number }[] = []
    for (const child of node.children) {
      if (pos + child.size > start && pos < end) wanted.push({ cid: child.cid, start: pos })
      pos += child.size
    }
    // ordered prefetch: keep up to `prefetch` child blocks in flight
    const inflight: Promise<Uint8Array>[] = []
    let next = 0
    const fill = () => {
      while (next < wanted.length && inflight.length < prefetch) {
        const p = get(wanted[next++].cid, io)
        p.catch(() => {}) // surfaced when awaited in order
        inflight.push(p)
      }
    }
    for (let i = 0; i < wanted.length; i++) {
      fill()
      const childBytes = await inflight.shift()!
      opts.signal?.throwIfAborted()
      yield* visit(wanted[i].cid, childBytes, wanted[i].start)
    }
  }

  yield* visit(root, await get(root, io), 0)
}
