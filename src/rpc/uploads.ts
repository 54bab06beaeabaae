// Staged uploads (lattice_createUpload / lattice_uploadChunk / lattice_deployModel "upload"): a package too
// large for one request is written to the node's disk in chunks. Every upload carries its sender's authority
// — an EIP-191 signature over a message naming the sender, the files (sizes and sha256s), the total size, an
// expiry and the chain id, or a devnet's unlocked dev account — is bounded per sender and node-wide, and is
// deleted with its bytes when it expires.
import { createHash, type Hash, randomBytes } from 'node:crypto'
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyMessage } from 'ethers'
import { invalidParams, RpcCode, RpcError } from './errors.ts'

/** Bounds on staged uploads; the defaults are documented in docs/rpc.md. */
export interface UploadLimits {
  /** Most bytes in one lattice_uploadChunk (base64 in a 5 MiB request body). */
  maxChunkBytes: number
  /** Most bytes in one upload. */
  maxUploadBytes: number
  /** Live uploads per sender. */
  perSenderUploads: number
  /** Declared bytes of a sender's live uploads together. */
  perSenderBytes: number
  /** Live uploads on the node. */
  nodeUploads: number
  /** Declared bytes of all live uploads. */
  nodeBytes: number
  /** Longest lifetime a signature may ask for (seconds). */
  maxLifetimeSeconds: number
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxChunkBytes: 2 * 1024 * 1024,
  maxUploadBytes: 16 * 1024 ** 3,
  perSenderUploads: 4,
  perSenderBytes: 16 * 1024 ** 3,
  nodeUploads: 64,
  nodeBytes: 64 * 1024 ** 3,
  maxLifetimeSeconds: 24 * 60 * 60,
}

/** One file of an upload as the sender declares (and signs) it. */
export interface UploadFile {
  name: string
  size: number
  /** Lowercase hex sha256 of the file. */
  sha256: string
}

/** What the sender signs. */
export interface UploadAuthorisation {
  chainId: bigint
  sender: string
  files: UploadFile[]
  /** Unix seconds after which the node forgets the upload (and the signature). */
  expires: number
}

/** sha256 over the sorted file list, one `name size sha256` line per file: the content the signature names. */
export function uploadContentHash(files: readonly UploadFile[]): string {
  const lines = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => `${f.name} ${f.size} ${f.sha256}\n`)
    .join('')
  return `0x${createHash('sha256').update(lines).digest('hex')}`
}

/** The text a sender signs with personal_sign (EIP-191) to authorise storing a package on a node. */
export function uploadMessage(a: UploadAuthorisation): string {
  const bytes = a.files.reduce((s, f) => s + f.size, 0)
  return [
    'Lattice model upload',
    `chain: ${a.chainId}`,
    `sender: ${a.sender.toLowerCase()}`,
    `files: ${a.files.length}`,
    `bytes: ${bytes}`,
    `content: ${uploadContentHash(a.files)}`,
    `expires: ${a.expires}`,
  ].join('\n')
}

/** Refused for lack of authority (a JSON-RPC -32602 naming the parameter, like every bad input). */
function unauthorised(message: string): RpcError {
  return invalidParams(message)
}

/** A staged upload. */
export interface StagedUpload {
  id: string
  sender: string
  dir: string
  files: Map<string, UploadFile>
  /** Bytes received per file. */
  received: Map<string, number>
  hashes: Map<string, Hash>
  declared: number
  expires: number
  /** A chunk is being written (chunks of one upload go one at a time). */
  busy?: boolean
}

/** Options of {@link createUploadStore}. */
export interface UploadStoreOpts {
  chainId: bigint
  /** Where staged bytes live (default: a temp directory). */
  dir?: string
  limits?: Partial<UploadLimits>
  /** Whether `sender` is an unlocked dev account of a devnet (needs no signature). */
  isDevAccount(sender: string): boolean
}

/** Live uploads with their bounds, expiry and authority checks. */
export interface UploadStore {
  readonly limits: UploadLimits
  /** Check a sender's authority for `files` (signature or dev account); remembers the signature until it expires. */
  authorise(a: UploadAuthorisation, signature: string | undefined, field: string): void
  create(a: UploadAuthorisation, signature: string | undefined): Promise<StagedUpload>
  /** Append a chunk; a file that reaches its declared size is checked against its sha256. */
  append(id: string, name: string, offset: number, bytes: Uint8Array): Promise<{ name: string; size: number }>
  /** Remove a complete upload from the store for a deploy; the caller deletes `dir` when done. */
  take(id: string, sender: string | undefined, field: string): StagedUpload
  /** Drop expired uploads and signatures now (also runs on every call and on a timer). */
  sweep(): Promise<void>
  /** The number of live uploads and their declared bytes (for tests and node info). */
  usage(sender?: string): { uploads: number; bytes: number }
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/
const SHA256_RE = /^[0-9a-f]{64}$/
const EMPTY_SHA256 = createHash('sha256').digest('hex')

/** Check a declared file list: names a package may hold, sizes, sha256s, no duplicates. */
export function checkUploadFiles(files: readonly UploadFile[], field: string, maxBytes: number): number {
  if (files.length === 0) throw invalidParams(`invalid argument ${field}: expected at least one file`)
  if (files.length > 1000) throw invalidParams(`invalid argument ${field}: more than 1000 files`)
  const names = new Set<string>()
  let total = 0
  for (const [i, f] of files.entries()) {
    if (!NAME_RE.test(f.name) || f.name.includes('..'))
      throw invalidParams(`invalid argument ${field}[${i}].name: ${JSON.stringify(f.name)} is not a package file name`)
    if (names.has(f.name)) throw invalidParams(`invalid argument ${field}[${i}].name: duplicate "${f.name}"`)
    names.add(f.name)
    if (!Number.isSafeInteger(f.size) || f.size < 0)
      throw invalidParams(`invalid argument ${field}[${i}].size: expected a byte count`)
    if (!SHA256_RE.test(f.sha256))
      throw invalidParams(`invalid argument ${field}[${i}].sha256: expected 64 lowercase hex digits`)
    if (f.size === 0 && f.sha256 !== EMPTY_SHA256)
      throw invalidParams(`invalid argument ${field}[${i}].sha256: an empty file's sha256 is ${EMPTY_SHA256}`)
    total += f.size
  }
  if (total > maxBytes)
    throw invalidParams(`invalid argument ${field}: ${total} bytes is more than ${maxBytes} bytes per upload`)
  return total
}

/** Create the node's upload store. */
export function createUploadStore(opts: UploadStoreOpts): UploadStore {
  const limits = { ...DEFAULT_UPLOAD_LIMITS, ...opts.limits }
  const uploads = new Map<string, StagedUpload>()
  /** signature -> its expiry: a signature authorises one upload (or one inline deploy). */
  const used = new Map<string, number>()
  let timer: NodeJS.Timeout | undefined
  const nowSeconds = () => Math.floor(Date.now() / 1000)

  const drop = async (u: StagedUpload) => {
    uploads.delete(u.id)
    if (u.dir) await rm(u.dir, { recursive: true, force: true })
  }

  const schedule = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    const next = Math.min(...[...uploads.values()].map((u) => u.expires))
    if (!Number.isFinite(next)) return
    timer = setTimeout(() => void store.sweep(), Math.max(0, next * 1000 - Date.now()) + 50)
    timer.unref()
  }

  const usage = (sender?: string) => {
    let n = 0
    let bytes = 0
    for (const u of uploads.values()) {
      if (sender !== undefined && u.sender !== sender) continue
      n++
      bytes += u.declared
    }
    return { uploads: n, bytes }
  }

  const store: UploadStore = {
    limits,

    authorise(a, signature, field) {
      const now = nowSeconds()
      if (!Number.isSafeInteger(a.expires) || a.expires <= now)
        throw unauthorised(`invalid argument ${field}.expires: the authorisation expired at ${a.expires} (now ${now})`)
      if (a.expires > now + limits.maxLifetimeSeconds)
        throw unauthorised(
          `invalid argument ${field}.expires: at most ${limits.maxLifetimeSeconds} seconds ahead (now ${now})`,
        )
      const sender = a.sender.toLowerCase()
      if (signature === undefined) {
        if (opts.isDevAccount(sender)) return
        throw unauthorised(
          `invalid argument ${field}.signature: missing; sign the upload message (docs/rpc.md, "Staged uploads") with the key of ${sender}`,
        )
      }
      if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(signature))
        throw unauthorised(`invalid argument ${field}.signature: expected a 65-byte hex signature`)
      let signer: string
      try {
        signer = verifyMessage(uploadMessage(a), signature).toLowerCase()
      } catch {
        throw unauthorised(`invalid argument ${field}.signature: not a valid signature`)
      }
      if (signer !== sender)
        throw unauthorised(
          `invalid argument ${field}.signature: signed by ${signer}, not by ${sender} (or over a different message)`,
        )
      const key = signature.toLowerCase()
      if (used.has(key)) throw unauthorised(`invalid argument ${field}.signature: already used; sign a new upload`)
      used.set(key, a.expires)
    },

    async create(a, signature) {
      await store.sweep()
      const field = 'upload'
      const declared = checkUploadFiles(a.files, `${field}.files`, limits.maxUploadBytes)
      const sender = a.sender.toLowerCase()
      const mine = usage(sender)
      if (mine.uploads + 1 > limits.perSenderUploads)
        throw new RpcError(
          RpcCode.limitExceeded,
          `${sender} has ${mine.uploads} live uploads, the most one sender may have; deploy or let them expire`,
        )
      if (mine.bytes + declared > limits.perSenderBytes)
        throw new RpcError(
          RpcCode.limitExceeded,
          `${sender} would stage ${mine.bytes + declared} bytes, over the ${limits.perSenderBytes}-byte bound per sender`,
        )
      const all = usage()
      if (all.uploads + 1 > limits.nodeUploads || all.bytes + declared > limits.nodeBytes)
        throw new RpcError(RpcCode.limitExceeded, 'the node has no room for more staged uploads; try again later')
      store.authorise(a, signature, field)
      const id = `0x${randomBytes(16).toString('hex')}`
      const u: StagedUpload = {
        id,
        sender,
        dir: '',
        files: new Map(a.files.map((f) => [f.name, f])),
        received: new Map(a.files.map((f) => [f.name, 0])),
        hashes: new Map(a.files.map((f) => [f.name, createHash('sha256')])),
        declared,
        expires: a.expires,
      }
      // counted from now on, so concurrent requests cannot pass the bounds together
      uploads.set(id, u)
      try {
        if (opts.dir) await mkdir(opts.dir, { recursive: true })
        u.dir = await mkdtemp(join(opts.dir ?? tmpdir(), 'lattice-upload-'))
        // an empty file gets no chunk: it is complete now
        for (const f of a.files) if (f.size === 0) await appendFile(join(u.dir, f.name), new Uint8Array())
      } catch (err) {
        await drop(u)
        throw err
      }
      schedule()
      return u
    },

    async append(id, name, offset, bytes) {
      await store.sweep()
      const u = uploads.get(id)
      if (!u)
        throw invalidParams(
          `invalid argument chunk.uploadId: no upload ${JSON.stringify(id)} (create one with lattice_createUpload; uploads expire)`,
        )
      const f = u.files.get(name)
      if (!f)
        throw invalidParams(
          `invalid argument chunk.name: "${name}" is not a file of this upload (${[...u.files.keys()].join(', ')})`,
        )
      if (f.size === 0 && bytes.length === 0) return { name, size: 0 }
      const have = u.received.get(name) ?? 0
      if (offset !== have)
        throw invalidParams(
          `invalid argument chunk.offset: ${name} has ${have} bytes so far; send the chunk at offset ${have}`,
        )
      if (bytes.length > limits.maxChunkBytes)
        throw invalidParams(
          `invalid argument chunk.data: ${bytes.length} bytes is more than ${limits.maxChunkBytes} per chunk`,
        )
      if (have + bytes.length > f.size)
        throw invalidParams(`invalid argument chunk.data: ${name} was declared with ${f.size} bytes`)
      if (u.busy)
        throw invalidParams('invalid argument chunk: another chunk of this upload is being written; send them in order')
      u.busy = true
      try {
        await appendFile(join(u.dir, name), bytes)
      } finally {
        u.busy = false
      }
      u.hashes.get(name)!.update(bytes)
      u.received.set(name, have + bytes.length)
      if (have + bytes.length === f.size) {
        const got = u.hashes.get(name)!.digest('hex')
        if (got !== f.sha256) {
          await drop(u)
          throw invalidParams(
            `invalid argument chunk.data: ${name} has sha256 ${got}, not the signed ${f.sha256}; the upload is dropped`,
          )
        }
      }
      return { name, size: have + bytes.length }
    },

    take(id, sender, field) {
      const u = uploads.get(id)
      if (!u || u.expires <= nowSeconds())
        throw invalidParams(
          `invalid argument ${field}: no upload ${JSON.stringify(id)} (create one with lattice_createUpload; uploads expire)`,
        )
      if (sender !== undefined && sender.toLowerCase() !== u.sender)
        throw invalidParams(`invalid argument ${field}: the upload belongs to ${u.sender}, not ${sender.toLowerCase()}`)
      for (const f of u.files.values()) {
        const got = u.received.get(f.name) ?? 0
        if (got !== f.size)
          throw invalidParams(`invalid argument ${field}: ${f.name} has ${got} of its ${f.size} bytes; send the rest`)
      }
      uploads.delete(id)
      schedule()
      return u
    },

    async sweep() {
      const now = nowSeconds()
      for (const u of [...uploads.values()]) if (u.expires <= now) await drop(u)
      for (const [sig, exp] of used) if (exp <= now) used.delete(sig)
      schedule()
    },

    usage,
  }
  return store
}
