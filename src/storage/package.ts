// Model packages on a ModelStore: pack a directory (one read pass: CIDs, sha256s and the commitment),
// read a manifest against an expected digest, and fetch files with their parts in parallel.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CommitmentBuilder } from './commitment.ts'
import {
  ContentMismatchError,
  InvalidStorageOptionError,
  PackageDigestMismatchError,
  PackageSourceError,
} from './errors.ts'
import {
  canonicalManifestBytes,
  DEFAULT_PART_SIZE,
  isValidFileName,
  MANIFEST_SCHEMA,
  MAX_MANIFEST_BYTES,
  type ManifestFile,
  type ManifestPart,
  normaliseDigest,
  type PackageFileKind,
  type PackageManifest,
  packageDigest,
  parseManifest,
} from './manifest.ts'
import { CHUNK_SIZE, importProfileName } from './profile.ts'
import type { CidVersion, IoOptions, ModelStore } from './types.ts'

/** Where a fetched package directory keeps its manifest bytes (package file names cannot start with a dot). */
export const MANIFEST_FILE = '.manifest.json'

export interface PackageFileSource {
  /** Name inside the package. */
  name: string
  /** Path on disk. */
  path: string
  kind?: PackageFileKind
}

export interface AddPackageOptions extends IoOptions {
  /** Package name (default: the directory's base name or the model file's stem). */
  name?: string
  /** Model type for pinning rewards (default `onnx`). */
  modelType?: string
  /** Main ONNX file name when the package has several `.onnx` files. */
  model?: string
  cidVersion?: CidVersion
  /** Split size for large files (default and maximum 256 MiB). */
  partSize?: number
  /** Pin every part and the manifest once everything is stored (default true). Nothing is pinned on failure. */
  pin?: boolean
}

export interface PackageResult {
  manifestCid: string
  /** keccak256 of the canonical manifest bytes: what the registry stores. */
  digest: string
  commitment: string
  manifest: PackageManifest
}

/** File kind from its name: `.onnx` model; external data; tokenizer files; configs; other. */
export function classifyFile(name: string): PackageFileKind {
  const n = name.toLowerCase()
  if (n.endsWith('.onnx') || n.endsWith('.ort')) return 'model'
  if (/\.(onnx_data|onnx\.data|data|bin|pb|weights)$/.test(n)) return 'external-data'
  if (/^(tokenizer|vocab|merges|spiece|sentencepiece|special_tokens_map)/.test(n) || n.endsWith('.spm'))
    return 'tokenizer'
  if (/\.(json|yaml|yml|txt|toml|md)$/.test(n)) return 'config'
  return 'other'
}

/** The files of a flat package directory (regular files; dot-files skipped; subdirectories refused). */
export async function collectPackageFiles(dir: string): Promise<PackageFileSource[]> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    throw new PackageSourceError(`Cannot read package directory ${dir}: ${(err as Error).message}`)
  }
  const files: PackageFileSource[] = []
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    if (!e.isFile())
      throw new PackageSourceError(`${join(dir, e.name)} is not a regular file; packages are flat directories.`)
    if (!isValidFileName(e.name)) {
      throw new PackageSourceError(`File name "${e.name}" is not allowed in a package (use letters, digits, . _ + -).`)
    }
    files.push({ name: e.name, path: join(dir, e.name), kind: classifyFile(e.name) })
  }
  if (!files.some((f) => f.kind === 'model'))
    throw new PackageSourceError(`No .onnx model in ${dir}. Put the model's .onnx file in it.`)
  return files
}

/** Add a package (directory or file list) to a store; returns manifest CID, digest and commitment. */
export async function addModelPackage(
  store: ModelStore,
  source: { dir: string } | { files: PackageFileSource[] },
  opts: AddPackageOptions = {},
): Promise<PackageResult> {
  const files = ('dir' in source ? await collectPackageFiles(source.dir) : source.files)
    .map((f) => ({ ...f, kind: f.kind ?? classifyFile(f.name) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (let i = 1; i < files.length; i++) {
    if (files[i].name === files[i - 1].name) throw new PackageSourceError(`Duplicate file name "${files[i].name}".`)
  }
  for (const f of files)
    if (!isValidFileName(f.name)) throw new PackageSourceError(`File name "${f.name}" is not allowed.`)
  const models = files.filter((f) => f.kind === 'model')
  const model = opts.model ?? (models.length === 1 ? models[0].name : undefined)
  if (!model || !models.some((f) => f.name === model)) {
    throw new PackageSourceError(
      models.length === 0
        ? 'The package has no .onnx model file.'
        : `The package has several models (${models.map((m) => m.name).join(', ')}); pass model to pick one.`,
    )
  }
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE
  if (!Number.isSafeInteger(partSize) || partSize < CHUNK_SIZE || partSize > DEFAULT_PART_SIZE) {
    throw new InvalidStorageOptionError('partSize', partSize, `an integer in ${CHUNK_SIZE}..${DEFAULT_PART_SIZE}`)
  }
  const cidVersion = opts.cidVersion ?? 1
  const sizes = await Promise.all(files.map(async (f) => (await stat(f.path)).size))
  const total = sizes.reduce((a, b) => a + b, 0)
  if (total === 0) throw new PackageSourceError('The package is empty (all files have zero bytes).')

  const commitment = await CommitmentBuilder.create()
  const added: string[] = []
  let done = 0
  const manifestFiles: ManifestFile[] = []
  for (const [i, f] of files.entries()) {
    const size = sizes[i]
    const fileHash = createHash('sha256')
    const parts: ManifestPart[] = []
    for (let offset = 0; offset < size || (size === 0 && parts.length === 0); offset += partSize) {
      const partLen = Math.min(partSize, size - offset)
      const partHash = createHash('sha256')
      // one read pass feeds the importer, both sha256s and the commitment
      const tapped = async function* () {
        if (partLen === 0) return
        for await (const chunk of createReadStream(f.path, {
          start: offset,
          end: offset + partLen - 1,
          highWaterMark: 1 << 20,
        }) as AsyncIterable<Buffer>) {
          partHash.update(chunk)
          fileHash.update(chunk)
          commitment.update(chunk)
          done += chunk.byteLength
          opts.onProgress?.({ op: 'add', done, total, cid: f.name })
          yield chunk
        }
      }
      const res = await store.add(partLen === 0 ? new Uint8Array(0) : tapped(), {
        cidVersion,
        size: partLen,
        signal: opts.signal,
      })
      if (res.size !== partLen)
        throw new ContentMismatchError(`${f.name} changed while packing`, `${partLen} bytes`, `${res.size}`)
      added.push(res.cid)
      parts.push({ cid: res.cid, offset, size: partLen, sha256: partHash.digest('hex') })
      if (size === 0) break
    }
    manifestFiles.push({ name: f.name, kind: f.kind, size, sha256: fileHash.digest('hex'), parts })
  }
  const defaultName = 'dir' in source ? source.dir.replace(/\/+$/, '').split('/').pop()! : model.replace(/\.[^.]+$/, '')
  const manifest: PackageManifest = {
    schema: MANIFEST_SCHEMA,
    name: opts.name ?? defaultName,
    modelType: opts.modelType ?? 'onnx',
    model,
    importProfile: importProfileName(cidVersion),
    chunkSize: CHUNK_SIZE,
    partSize,
    files: manifestFiles,
    totalSize: total,
    commitment: commitment.digest(),
  }
  const bytes = canonicalManifestBytes(manifest)
  parseManifest(bytes) // never publish a manifest our own reader would refuse
  const { cid: manifestCid } = await store.add(bytes, { cidVersion, signal: opts.signal })
  if (opts.pin ?? true) await pinAll(store, [...new Set(added), manifestCid], opts.signal)
  return { manifestCid, digest: packageDigest(bytes), commitment: manifest.commitment.root, manifest }
}

/** Pin CIDs in order (the manifest last); on any failure unpin what was pinned, so no partial package stays pinned. */
export async function pinAll(store: ModelStore, cids: string[], signal?: AbortSignal): Promise<void> {
  const pinned: string[] = []
  try {
    for (const cid of cids) {
      await store.pin(cid, { signal })
      pinned.push(cid)
    }
  } catch (err) {
    for (const cid of pinned.reverse()) await store.unpin(cid).catch(() => {})
    throw err
  }
}

/** Read a manifest by CID; refuse it unless its digest equals `expectedDigest` (when given). */
export async function readManifest(
  store: ModelStore,
  manifestCid: string,
  expectedDigest: string | undefined,
  opts: IoOptions = {},
): Promise<{ manifest: PackageManifest; digest: string; bytes: Uint8Array }> {
  const chunks: Uint8Array[] = []
  let n = 0
  for await (const c of store.cat(manifestCid, { signal: opts.signal, length: MAX_MANIFEST_BYTES + 1 })) {
    chunks.push(c)
    n += c.byteLength
  }
  const bytes = Buffer.concat(chunks, n)
  const digest = packageDigest(bytes)
  if (expectedDigest !== undefined && normaliseDigest(expectedDigest) !== digest) {
    throw new PackageDigestMismatchError(manifestCid, normaliseDigest(expectedDigest), digest)
  }
  return { manifest: parseManifest(bytes, manifestCid), digest, bytes }
}

/**
 * Write one package file to `dest` (temp + rename): parts are fetched in parallel into their offsets, each
 * part's sha256 checked as it streams, then the whole file's sha256.
 */
export async function fetchPackageFile(
  store: ModelStore,
  file: ManifestFile,
  dest: string,
  opts: IoOptions & { concurrency?: number } = {},
): Promise<void> {
  const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.part`
  const fh = await open(tmp, 'w')
  let done = 0
  try {
    await fh.truncate(file.size)
    const queue = [...file.parts]
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const h = createHash('sha256')
        let pos = p.offset
        for await (const chunk of store.cat(p.cid, { signal: opts.signal })) {
          if (pos + chunk.byteLength > p.offset + p.size) {
            throw new ContentMismatchError(`${file.name} part at ${p.offset} size`, `${p.size}`, `more`)
          }
          h.update(chunk)
          await fh.write(chunk, 0, chunk.byteLength, pos)
          pos += chunk.byteLength
          done += chunk.byteLength
          opts.onProgress?.({ op: 'fetch', done, total: file.size, cid: file.name })
        }
        if (pos - p.offset !== p.size)
          throw new ContentMismatchError(`${file.name} part at ${p.offset} size`, `${p.size}`, `${pos - p.offset}`)
        const got = h.digest('hex')
        if (got !== p.sha256) throw new ContentMismatchError(`${file.name} part ${p.cid} sha256`, p.sha256, got)
      }
    }
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, file.parts.length) }, worker))
    await fh.close()
    if (file.parts.length > 1) {
      const got = await sha256File(tmp, opts.signal)
      if (got !== file.sha256) throw new ContentMismatchError(`${file.name} sha256`, file.sha256, got)
    }
    await rename(tmp, dest)
  } catch (err) {
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
}

/** Lowercase hex sha256 of a file on disk. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    signal?.throwIfAborted()
    h.update(c)
  }
  return h.digest('hex')
}

/** Fetch a whole package into `dir` (files + `.manifest.json`, a name no package file can have), refusing it unless its digest matches. */
export async function fetchModelPackage(
  store: ModelStore,
  manifestCid: string,
  expectedDigest: string,
  dir: string,
  opts: IoOptions & { concurrency?: number } = {},
): Promise<{ manifest: PackageManifest; digest: string }> {
  const { manifest, digest, bytes } = await readManifest(store, manifestCid, expectedDigest, opts)
  let base = 0
  for (const f of manifest.files) {
    const offset = base
    await fetchPackageFile(store, f, join(dir, f.name), {
      ...opts,
      onProgress: (e) => opts.onProgress?.({ ...e, done: offset + e.done, total: manifest.totalSize }),
    })
    base += f.size
  }
  const fh = await open(join(dir, MANIFEST_FILE), 'w')
  await fh.writeFile(bytes)
  await fh.close()
  return { manifest, digest }
}
