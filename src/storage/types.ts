/** Progress of one storage operation, in bytes. `total` is known when the source size is. */
export interface StorageProgressEvent {
  op: 'add' | 'get' | 'fetch' | 'pin' | 'repair'
  done: number
  total?: number
  /** The CID (or file name) the event is about, when there is one. */
  cid?: string
}

/** Options every async storage I/O call accepts. */
export interface IoOptions {
  signal?: AbortSignal
  onProgress?: (event: StorageProgressEvent) => void
}

export type CidVersion = 0 | 1

/** What `add` accepts: a path to a file on disk, bytes, or a stream of chunks. */
export type AddSource = { path: string } | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

export interface AddOptions extends IoOptions {
  /** 1 (default): raw leaves, base32 `bafy...`; 0: dag-pb leaves, `Qm...` (Kubo's `--cid-version 0`). */
  cidVersion?: CidVersion
  /** Pin recursively once the whole file is stored (default false). */
  pin?: boolean
  /** Total bytes, for progress events when the source is a stream. */
  size?: number
}

export interface AddResult {
  cid: string
  /** File bytes (not DAG bytes). */
  size: number
}

export interface ReadOptions extends IoOptions {
  offset?: number
  length?: number
}

export interface StatResult {
  cid: string
  /** A raw-leaf block is a (one-chunk) file. */
  type: 'file' | 'directory' | 'other'
  /** File bytes for files; 0 otherwise. */
  size: number
}

export interface PinEntry {
  cid: string
  type: 'recursive' | 'direct' | 'indirect'
}

/** Something that can hand out one verified block by CID (a peer, a Kubo daemon, another store). */
export interface BlockSource {
  getBlock(cid: string, opts?: IoOptions): Promise<Uint8Array>
}

/** A content-addressed store of model files. Both backends (embedded, kubo) implement it. */
export interface ModelStore extends BlockSource {
  readonly backend: 'embedded' | 'kubo'
  /** Import a file with Kubo's import profile; returns its CID. */
  add(source: AddSource, opts?: AddOptions): Promise<AddResult>
  /** Stream a file's bytes (optionally a window), every block verified against its CID. */
  cat(cid: string, opts?: ReadOptions): AsyncIterable<Uint8Array>
  /** Write a file to `path` (temp file + rename, so `path` is never torn). */
  get(cid: string, path: string, opts?: IoOptions): Promise<AddResult>
  stat(cid: string, opts?: IoOptions): Promise<StatResult>
  pin(cid: string, opts?: IoOptions): Promise<void>
  unpin(cid: string, opts?: IoOptions): Promise<void>
  pins(opts?: IoOptions): Promise<PinEntry[]>
  /** Delete blocks no recursive pin references; returns how many were removed. */
  gc(opts?: IoOptions): Promise<{ removed: number }>
  close(): Promise<void>
}
