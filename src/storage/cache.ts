// Local model cache: packages materialised as plain files, keyed by package digest, evicted LRU by a byte
// budget. A package directory appears by one atomic rename of a fully fetched and verified temp directory,
// so concurrent fetches (two calls or two processes) never expose a torn file; readers re-verify.
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
// the one import from inference: ONNX external-data references are resolved here, against the package's
// verified files, so no runtime ever opens a path a model names (see inference/external-data.ts)
import { ModelCheckError } from '../inference/errors.ts'
import { dirFileReader, inlineExternalData } from '../inference/external-data.ts'
import { ContentMismatchError, InvalidStorageOptionError, ManifestInvalidError } from './errors.ts'
import { normaliseDigest, type PackageManifest, packageDigest, parseManifest } from './manifest.ts'
import { fetchModelPackage, MANIFEST_FILE, sha256File } from './package.ts'
import type { IoOptions, ModelStore } from './types.ts'

export interface ModelCacheOpts {
  /** Cache directory, e.g. `modelCacheDir(datadir)`. */
  dir: string
  /** Where packages come from on a miss. */
  store: ModelStore
  /** LRU byte budget over all cached packages (default 16 GiB). The package just used is never evicted. */
  maxBytes?: number
  /** Parallel part fetches per file (default 4). */
  concurrency?: number
}

export interface CachedPackage {
  /** Directory holding the package's files (flat) and `.manifest.json`. */
  dir: string
  manifest: PackageManifest
  digest: string
}

export interface CachedModelFile extends CachedPackage {
  /** Absolute path of the requested file (the package's model file by default). */
  path: string
  size: number
}

export interface CacheEntry {
  digest: string
  bytes: number
  lastUsed: number
}

export interface ModelCache {
  /** Path of a package's model file (or `opts.file`), fetching and verifying the package on a miss. */
  getModelFile(cid: string, expectedDigest: string, opts?: IoOptions & { file?: string }): Promise<CachedModelFile>
  /**
   * The same file's bytes. For the package's ONNX model, external-data tensors that name files of the same
   * package are inlined (raw_data); a reference to anything else is left as it is, and every session
   * factory refuses such a model (assertSelfContained), so nothing outside the package is ever read.
   */
  getModelBytes(cid: string, expectedDigest: string, opts?: IoOptions & { file?: string }): Promise<Uint8Array>
  getPackage(cid: string, expectedDigest: string, opts?: IoOptions): Promise<CachedPackage>
  entries(): Promise<CacheEntry[]>
  /** Evict least-recently-used packages until under budget; returns evicted digests. */
  evict(keep?: string[]): Promise<string[]>
  remove(digest: string): Promise<void>
}

const DIGEST_RE = /^0x[0-9a-f]{64}$/

/** Create a cache over a directory; safe to share the directory between processes. */
export function createModelCache(opts: ModelCacheOpts): ModelCache {
  const root = opts.dir
  const pkgDir = join(root, 'packages')
  const tmpDir = join(root, 'tmp')
  const maxBytes = opts.maxBytes ?? 16 * 1024 ** 3
  const inflight = new Map<string, Promise<CachedPackage>>()
  /** path -> "ino:size:mtime" of files already verified in this process */
  const verified = new Map<string, string>()

  const key = (digest: string) => {
    const d = normaliseDigest(digest)
    if (!DIGEST_RE.test(d)) throw new InvalidStorageOptionError('package digest', digest, '0x + 64 hex chars')
    return d
  }

  async function verifyDir(dir: string, digest: string, signal?: AbortSignal): Promise<PackageManifest> {
    const bytes = await readFile(join(dir, MANIFEST_FILE))
    if (packageDigest(bytes) !== digest) throw new ManifestInvalidError('cached manifest does not match its digest')
    const manifest = parseManifest(bytes)
    for (const f of manifest.files) {
      const p = join(dir, f.name)
      const st = await stat(p)
      const tag = `${st.ino}:${st.size}:${st.mtimeMs}`
      if (verified.get(p) === tag) continue
      if (st.size !== f.size) throw new ContentMismatchError(`cached ${f.name} size`, `${f.size}`, `${st.size}`)
      const got = await sha256File(p, signal)
      if (got !== f.sha256) throw new ContentMismatchError(`cached ${f.name} sha256`, f.sha256, got)
      verified.set(p, tag)
    }
    return manifest
  }

  async function touch(dir: string): Promise<void> {
    const now = new Date()
    await utimes(join(dir, MANIFEST_FILE), now, now).catch(() => {})
  }

  async function discard(dir: string): Promise<void> {
    // move aside first so no reader ever opens a half-deleted directory under the final name
    const aside = join(tmpDir, `trash-${randomBytes(6).toString('hex')}`)
    await mkdir(tmpDir, { recursive: true })
    try {
      await rename(dir, aside)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    await rm(aside, { recursive: true, force: true })
  }

  async function load(cid: string, digest: string, io: IoOptions): Promise<CachedPackage> {
    const final = join(pkgDir, digest.slice(2))
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const manifest = await verifyDir(final, digest, io.signal)
        await touch(final)
        return { dir: final, manifest, digest }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          if (!(err instanceof ContentMismatchError || err instanceof ManifestInvalidError)) throw err
          await discard(final) // corrupt on disk: fetch again
        }
      }
      await mkdir(tmpDir, { recursive: true })
      await mkdir(pkgDir, { recursive: true })
      const work = join(tmpDir, `${digest.slice(2, 18)}-${process.pid}-${randomBytes(6).toString('hex')}`)
      await mkdir(work)
      try {
        const { manifest } = await fetchModelPackage(opts.store, cid, digest, work, {
          ...io,
          concurrency: opts.concurrency,
        })
        try {
          await rename(work, final)
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
          continue // another fetch won the rename: verify and use its copy
        }
        for (const f of manifest.files) {
          const st = await stat(join(final, f.name))
          verified.set(join(final, f.name), `${st.ino}:${st.size}:${st.mtimeMs}`)
        }
        return { dir: final, manifest, digest }
      } finally {
        await rm(work, { recursive: true, force: true })
      }
    }
    throw new ContentMismatchError(`cache entry ${digest}`, 'a stable verified copy', 'repeated corruption')
  }

  const cache: ModelCache = {
    async getPackage(cid, expectedDigest, io = {}) {
      const digest = key(expectedDigest)
      let p = inflight.get(digest)
      if (!p) {
        p = load(cid, digest, io).finally(() => inflight.delete(digest))
        inflight.set(digest, p)
      }
      const pkg = await p
      await cache.evict([digest]).catch(() => {})
      return pkg
    },

    async getModelFile(cid, expectedDigest, io = {}) {
      const pkg = await cache.getPackage(cid, expectedDigest, io)
      const name = io.file ?? pkg.manifest.model
      const f = pkg.manifest.files.find((x) => x.name === name)
      if (!f)
        throw new InvalidStorageOptionError('file', name, `one of ${pkg.manifest.files.map((x) => x.name).join(', ')}`)
      return { ...pkg, path: join(pkg.dir, f.name), size: f.size }
    },

    async getModelBytes(cid, expectedDigest, io = {}) {
      const f = await cache.getModelFile(cid, expectedDigest, io)
      const buf = await readFile(f.path, { signal: io.signal })
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      const entry = f.manifest.files.find((x) => join(f.dir, x.name) === f.path)
      if (entry?.kind !== 'model') return bytes
      const sizes = new Map(f.manifest.files.map((x) => [x.name, x.size]))
      try {
        return await inlineExternalData(bytes, dirFileReader(f.dir, sizes))
      } catch (err) {
        if (err instanceof ModelCheckError) return bytes // not self-contained: refused when loaded
        throw err
      }
    },

    async entries() {
      let names: string[]
      try {
        names = await readdir(pkgDir)
      } catch {
        return []
      }
      const out: CacheEntry[] = []
      for (const n of names) {
        try {
          const mf = join(pkgDir, n, MANIFEST_FILE)
          const [st, bytes] = await Promise.all([stat(mf), readFile(mf)])
          out.push({ digest: `0x${n}`, bytes: parseManifest(bytes).totalSize, lastUsed: st.mtimeMs })
        } catch {
          // a directory being replaced or corrupt: ignored here, re-verified on use
        }
      }
      return out
    },

    async evict(keep = []) {
      const entries = (await cache.entries()).sort((a, b) => a.lastUsed - b.lastUsed)
      let total = entries.reduce((s, e) => s + e.bytes, 0)
      const evicted: string[] = []
      for (const e of entries) {
        if (total <= maxBytes) break
        if (keep.includes(e.digest) || inflight.has(e.digest)) continue
        await discard(join(pkgDir, e.digest.slice(2)))
        total -= e.bytes
        evicted.push(e.digest)
      }
      return evicted
    },

    async remove(digest) {
      await discard(join(pkgDir, key(digest).slice(2)))
    },
  }
  return cache
}
