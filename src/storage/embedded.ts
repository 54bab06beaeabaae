// Embedded backend: a pack blockstore (pack.ts) + a Level datastore under <datadir>/ipfs, read and written
// with the UnixFS importer/exporter directly. A blocks/ directory from before packs (blockstore-fs layout)
// is still read. Helia + libp2p load only when networking is configured.
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { Level } from 'level'
import type { CID } from 'multiformats/cid'
import { LatticeBlockstore } from './blockstore.ts'
import { importFile, parseCid, readFile, statNode, type VerifiedBlockGetter, verifyBlock, walkDag } from './dag.ts'
import {
  BlockNotFoundError,
  CorruptBlockError,
  InvalidStorageOptionError,
  StoreClosedError,
  StoreLockedError,
} from './errors.ts'
import { exportFile, hasRawLeaves } from './export.ts'
import { writeStreamToFile } from './files.ts'
import { sharedHashPool } from './hash-pool.ts'
import type { NetworkNode, NetworkOpts } from './network.ts'
import { hasLegacyBlocks, PackBlockstore } from './pack.ts'
import { ipfsRepoDir } from './paths.ts'
import type {
  AddOptions,
  AddResult,
  AddSource,
  BlockSource,
  IoOptions,
  ModelStore,
  PinEntry,
  ReadOptions,
  StatResult,
} from './types.ts'
import { verifyBlockPooled } from './verify.ts'

export interface EmbeddedModelStoreOpts {
  /** Node data directory; the repo lives in `<datadir>/ipfs` (pack/, datastore/, and blocks/ from older versions). */
  datadir?: string
  /** Explicit repo directory (overrides `datadir`). One of the two is required. */
  repo?: string
  /** Start libp2p (TCP, noise, yamux, bitswap) so blocks can be fetched from and served to peers. Off by default. */
  network?: NetworkOpts
  /** Where missing or corrupt blocks are fetched from besides the network (e.g. a Kubo store). */
  repairFrom?: BlockSource
  /** Blocks fetched ahead of a streaming reader (default 16, i.e. ~4 MiB). */
  prefetch?: number
  /** Parallel block writes during add (default 50). */
  writeConcurrency?: number
}

const PIN_PREFIX = '/lattice/pins/'

/** The embedded store; `blockstore` is exposed for the network layer and for tests. */
export interface EmbeddedModelStore extends ModelStore {
  readonly backend: 'embedded'
  readonly repo: string
  readonly blockstore: PackBlockstore
  /** The libp2p node when networking is on (multiaddrs to give other nodes as peers). */
  readonly network?: NetworkNode
  /** Whether the whole DAG under `cid` is present and intact locally (no fetching). */
  has(cid: string, opts?: IoOptions): Promise<boolean>
}

function isLockError(err: unknown): boolean {
  for (let e: any = err; e; e = e.cause) {
    if (e.code === 'LEVEL_LOCKED') return true
  }
  return false
}

/** Open (creating if needed) the embedded store of a data directory. */
export async function createEmbeddedModelStore(opts: EmbeddedModelStoreOpts): Promise<EmbeddedModelStore> {
  const repo = opts.repo ?? ipfsRepoDir(opts.datadir ?? '')
  if (!opts.repo && !opts.datadir) {
    throw new InvalidStorageOptionError('datadir', opts.datadir, 'a data directory path')
  }
  // open Level ourselves first: datastore-level flattens the error and loses LEVEL_LOCKED
  const db = new Level<string, Uint8Array>(join(repo, 'datastore'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  try {
    await db.open({ createIfMissing: true })
  } catch (err) {
    if (isLockError(err)) throw new StoreLockedError(repo, err)
    throw err
  }
  const datastore = new LevelDatastore(db as any)
  await datastore.open()
  // the pack opens only under Level's lock: open() repairs (truncates, rewrites) what a crash left
  const legacyDir = join(repo, 'blocks')
  const legacy = (await hasLegacyBlocks(legacyDir)) ? new LatticeBlockstore(legacyDir) : undefined
  const blockstore = new PackBlockstore(join(repo, 'pack'), legacy)
  try {
    await blockstore.open()
  } catch (err) {
    await datastore.close()
    throw err
  }
  let network: NetworkNode | undefined
  if (opts.network) {
    try {
      const { startNetwork } = await import('./network.ts')
      network = await startNetwork({ blockstore, datastore, ...opts.network })
    } catch (err) {
      await blockstore.close()
      await datastore.close()
      throw err
    }
  }
  return new Embedded(repo, blockstore, datastore, network, opts)
}

class Embedded implements EmbeddedModelStore {
  readonly backend = 'embedded' as const
  #closed = false
  readonly #prefetch: number
  readonly #get = (cid: CID, o?: IoOptions) => this.#getVerified(cid, o)

  constructor(
    readonly repo: string,
    readonly blockstore: PackBlockstore,
    private readonly datastore: LevelDatastore,
    readonly network: NetworkNode | undefined,
    private readonly opts: EmbeddedModelStoreOpts,
  ) {
    this.#prefetch = opts.prefetch ?? 16
  }

  #check(): void {
    if (this.#closed) throw new StoreClosedError()
  }

  get #remotes(): BlockSource[] {
    const r: BlockSource[] = []
    if (this.network) r.push(this.network)
    if (this.opts.repairFrom) r.push(this.opts.repairFrom)
    return r
  }

  /** Local read + verification; missing blocks come from the network / repair source, corrupt ones are replaced. */
  async #getVerified(cid: CID, opts: IoOptions = {}): Promise<Uint8Array> {
    let bytes: Uint8Array | undefined
    try {
      bytes = await this.blockstore.getBytes(cid, opts)
    } catch (err) {
      if (!(err instanceof BlockNotFoundError)) throw err
    }
    if (bytes) {
      try {
        return await verifyBlockPooled(cid, bytes, sharedHashPool())
      } catch (err) {
        if (!(err instanceof CorruptBlockError) || this.#remotes.length === 0) throw err
        opts.onProgress?.({ op: 'repair', done: 0, cid: cid.toString() })
        // drop the bad copy first: Helia's networked blockstore would otherwise return the local block
        await this.blockstore.delete(cid)
        return this.#fetchRemote(cid, opts, err)
      }
    }
    return this.#fetchRemote(cid, opts)
  }

  async #fetchRemote(cid: CID, opts: IoOptions, corrupt?: CorruptBlockError): Promise<Uint8Array> {
    let lastErr: unknown = corrupt
    for (const source of this.#remotes) {
      opts.signal?.throwIfAborted()
      try {
        const bytes = await source.getBlock(cid.toString(), { signal: opts.signal })
        verifyBlock(cid, bytes)
        await this.blockstore.put(cid, bytes)
        return bytes
      } catch (err) {
        if (opts.signal?.aborted) throw err
        lastErr = err
      }
    }
    if (corrupt) throw corrupt
    throw new BlockNotFoundError(cid.toString(), lastErr)
  }

  async getBlock(cid: string, opts?: IoOptions): Promise<Uint8Array> {
    this.#check()
    return this.#getVerified(parseCid(cid), opts)
  }

  async add(source: AddSource, opts: AddOptions = {}): Promise<AddResult> {
    this.#check()
    const res = await importFile(this.blockstore, source, { ...opts, writeConcurrency: this.opts.writeConcurrency })
    if (opts.pin) await this.pin(res.cid, { signal: opts.signal })
    return res
  }

  async *cat(cid: string, opts: ReadOptions = {}): AsyncIterable<Uint8Array> {
    this.#check()
    const root = parseCid(cid)
    let done = 0
    let total: number | undefined
    if (opts.onProgress) {
      const st = await statNode(this.#get, root, opts)
      total = Math.max(0, Math.min(st.size - (opts.offset ?? 0), opts.length ?? Number.POSITIVE_INFINITY))
    }
    // repair events reach the caller's onProgress too
    const get = (c: CID, o?: IoOptions) => this.#getVerified(c, { signal: o?.signal, onProgress: opts.onProgress })
    for await (const chunk of readFile(get, root, { ...opts, prefetch: this.#prefetch })) {
      done += chunk.byteLength
      yield chunk
      opts.onProgress?.({ op: 'get', done, total, cid })
    }
  }

  async get(cid: string, path: string, opts: IoOptions = {}): Promise<AddResult> {
    this.#check()
    const root = parseCid(cid)
    // raw-leaf files (kubo-v1, what `add` writes) export from the pack in parallel; v0 DAGs stream in order
    if (!(await hasRawLeaves(this.#get, root, opts)))
      return writeStreamToFile(this.cat(cid, opts), path, cid, opts.signal)
    const total = opts.onProgress ? (await statNode(this.#get, root, opts)).size : undefined
    const res = await exportFile(this.blockstore, this.#progressGet(opts), sharedHashPool(), root, path, {
      ...opts,
      total,
    })
    return { cid, size: res.size }
  }

  /** The verified getter, with repair events going to the caller's onProgress. */
  #progressGet(opts: IoOptions): VerifiedBlockGetter {
    return (c: CID, o?: IoOptions) => this.#getVerified(c, { signal: o?.signal, onProgress: opts.onProgress })
  }

  async stat(cid: string, opts: IoOptions = {}): Promise<StatResult> {
    this.#check()
    const root = parseCid(cid)
    return statNode(this.#get, root, opts)
  }

  /** Whether the whole DAG under `cid` is present and intact locally (no fetching). */
  async has(cid: string, opts: IoOptions = {}): Promise<boolean> {
    this.#check()
    const local = async (c: CID) => {
      const bytes = await this.blockstore.getBytes(c, opts)
      verifyBlock(c, bytes)
      return bytes
    }
    try {
      for await (const _ of walkDag(local, parseCid(cid), { ...opts, readLeaves: true }));
      return true
    } catch (err) {
      if (err instanceof BlockNotFoundError || err instanceof CorruptBlockError) return false
      throw err
    }
  }

  async pin(cid: string, opts: IoOptions = {}): Promise<void> {
    this.#check()
    const root = parseCid(cid)
    // a recursive pin needs every block: fetch (and verify) the whole DAG first
    let n = 0
    for await (const _ of walkDag(this.#get, root, { ...opts, readLeaves: true })) {
      n++
      opts.onProgress?.({ op: 'pin', done: n, cid })
    }
    await this.datastore.put(
      new Key(PIN_PREFIX + root.toString()),
      new TextEncoder().encode(JSON.stringify({ type: 'recursive', at: Date.now() })),
    )
  }

  async unpin(cid: string, _opts: IoOptions = {}): Promise<void> {
    this.#check()
    await this.datastore.delete(new Key(PIN_PREFIX + parseCid(cid).toString()))
  }

  async pins(_opts: IoOptions = {}): Promise<PinEntry[]> {
    this.#check()
    const out: PinEntry[] = []
    for await (const key of this.datastore.queryKeys({ prefix: PIN_PREFIX })) {
      out.push({ cid: key.toString().slice(PIN_PREFIX.length), type: 'recursive' })
    }
    return out
  }

  async gc(opts: IoOptions = {}): Promise<{ removed: number }> {
    this.#check()
    const keep = new Set<string>()
    for (const p of await this.pins(opts)) {
      for await (const c of walkDag(this.#get, parseCid(p.cid), opts))
        keep.add(Buffer.from(c.multihash.bytes).toString('hex'))
    }
    let removed = 0
    for await (const { cid } of this.blockstore.getAll()) {
      opts.signal?.throwIfAborted()
      if (keep.has(Buffer.from(cid.multihash.bytes).toString('hex'))) continue
      await this.blockstore.delete(cid)
      removed++
    }
    if (removed > 0) await this.blockstore.compact()
    return { removed }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.network?.stop()
    await this.datastore.close()
    await this.blockstore.close()
  }
}
