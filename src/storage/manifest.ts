// The model package manifest: canonical JSON bytes, their keccak256 digest (what the registry stores),
// and validation of everything a reader will trust (names, sizes, part layout).
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { COMMITMENT_ALGORITHM, type Commitment, LEAF_SIZE } from './commitment.ts'
import { parseCid } from './dag.ts'
import { ManifestInvalidError } from './errors.ts'
import { CHUNK_SIZE, type ImportProfileName } from './profile.ts'

export const MANIFEST_SCHEMA = 'lattice/model-package@1'
/** Files above this size are stored as several parts (each its own UnixFS file). */
export const DEFAULT_PART_SIZE = 256 * 1024 * 1024
/** Manifests larger than this are refused before parsing. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

export type PackageFileKind = 'model' | 'external-data' | 'tokenizer' | 'config' | 'other'

export interface ManifestPart {
  cid: string
  /** Byte offset of this part in its file. */
  offset: number
  size: number
  /** Lowercase hex sha256 of the part's bytes. */
  sha256: string
}

export interface ManifestFile {
  /** Flat file name, `[A-Za-z0-9][A-Za-z0-9._+-]*`, at most 255 bytes. */
  name: string
  kind: PackageFileKind
  size: number
  /** Lowercase hex sha256 of the whole file. */
  sha256: string
  /** Consecutive parts covering the file; one part unless the file exceeds `partSize`. */
  parts: ManifestPart[]
}

export interface PackageManifest {
  schema: typeof MANIFEST_SCHEMA
  name: string
  /** Model type used for pinning rewards (e.g. `classifier`, `detector`, `llm`, `embedding`, `onnx`). */
  modelType: string
  /** Name of the main ONNX graph among `files`. */
  model: string
  importProfile: ImportProfileName
  chunkSize: number
  partSize: number
  /** Sorted by name (byte order); the commitment covers them concatenated in this order. */
  files: ManifestFile[]
  totalSize: number
  commitment: Commitment
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/
const SHA256_RE = /^[0-9a-f]{64}$/
const KINDS: PackageFileKind[] = ['model', 'external-data', 'tokenizer', 'config', 'other']

/** Whether `name` may be a package file name (flat; safe to join onto a directory). */
export function isValidFileName(name: string): boolean {
  return NAME_RE.test(name) && !name.includes('..')
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    keys.sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new ManifestInvalidError(`non-integer number ${value}`)
  }
  return JSON.stringify(value)
}

/** Canonical manifest bytes: UTF-8 JSON, keys sorted by UTF-16 code unit at every level, no whitespace. */
export function canonicalManifestBytes(manifest: PackageManifest): Uint8Array {
  return new TextEncoder().encode(canonical(manifest))
}

/** The package digest: 0x-prefixed keccak256 of the canonical manifest bytes. */
export function packageDigest(manifestBytes: Uint8Array): string {
  return `0x${Buffer.from(keccak256(manifestBytes)).toString('hex')}`
}

/** Normalise a digest for comparison (lowercase, 0x-prefixed). */
export function normaliseDigest(digest: string): string {
  const d = digest.trim().toLowerCase()
  return d.startsWith('0x') ? d : `0x${d}`
}

function fail(reason: string, cid?: string): never {
  throw new ManifestInvalidError(reason, cid)
}

function int(v: unknown, what: string, cid?: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${what} must be an integer >= ${min}`, cid)
  return v
}

/** Check a parsed manifest's structure and internal consistency. */
export function validateManifest(m: PackageManifest, cid?: string): PackageManifest {
  if (typeof m !== 'object' || m === null) fail('not a JSON object', cid)
  if (m.schema !== MANIFEST_SCHEMA) fail(`schema must be "${MANIFEST_SCHEMA}", got ${JSON.stringify(m.schema)}`, cid)
  if (typeof m.name !== 'string' || m.name.length === 0 || m.name.length > 200) fail('name must be 1-200 chars', cid)
  if (typeof m.modelType !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(m.modelType)) {
    fail(`modelType ${JSON.stringify(m.modelType)} must match [a-z0-9][a-z0-9-]*`, cid)
  }
  if (m.importProfile !== 'kubo-v1' && m.importProfile !== 'kubo-v0')
    fail('importProfile must be kubo-v1 or kubo-v0', cid)
  if (m.chunkSize !== CHUNK_SIZE) fail(`chunkSize must be ${CHUNK_SIZE}`, cid)
  const partSize = int(m.partSize, 'partSize', cid, 1)
  if (!Array.isArray(m.files) || m.files.length === 0) fail('files must be a non-empty array', cid)
  let total = 0
  let prev = ''
  for (const f of m.files) {
    if (!isValidFileName(f?.name)) fail(`file name ${JSON.stringify(f?.name)} is not allowed`, cid)
    if (f.name <= prev) fail(`files must be sorted by name and unique (${f.name})`, cid)
    prev = f.name
    if (!KINDS.includes(f.kind)) fail(`file ${f.name}: kind ${JSON.stringify(f.kind)} unknown`, cid)
    const size = int(f.size, `file ${f.name} size`, cid)
    if (!SHA256_RE.test(f.sha256)) fail(`file ${f.name}: sha256 must be 64 lowercase hex chars`, cid)
    if (!Array.isArray(f.parts) || f.parts.length === 0) fail(`file ${f.name}: parts must be non-empty`, cid)
    let off = 0
    for (const p of f.parts) {
      parseCid(p.cid)
      if (int(p.offset, `file ${f.name} part offset`, cid) !== off)
        fail(`file ${f.name}: parts must be contiguous`, cid)
      const ps = int(p.size, `file ${f.name} part size`, cid)
      if (ps > partSize) fail(`file ${f.name}: part larger than partSize`, cid)
      if (!SHA256_RE.test(p.sha256)) fail(`file ${f.name}: part sha256 must be 64 lowercase hex chars`, cid)
      off += ps
    }
    if (off !== size) fail(`file ${f.name}: parts cover ${off} bytes, size is ${size}`, cid)
    if (f.parts.length > 1 && f.parts.slice(0, -1).some((p) => p.size !== partSize)) {
      fail(`file ${f.name}: every part but the last must be partSize`, cid)
    }
    if (f.parts.length === 1 && f.parts[0].sha256 !== f.sha256)
      fail(`file ${f.name}: one part must carry the file sha256`, cid)
    total += size
  }
  if (!m.files.some((f) => f.name === m.model && f.kind === 'model'))
    fail(`model ${JSON.stringify(m.model)} is not a model file`, cid)
  if (int(m.totalSize, 'totalSize', cid, 1) !== total)
    fail(`totalSize ${m.totalSize} != sum of file sizes ${total}`, cid)
  const c = m.commitment
  if (c?.algorithm !== COMMITMENT_ALGORITHM || c.leafSize !== LEAF_SIZE) fail('unknown commitment algorithm', cid)
  if (!/^0x[0-9a-f]{64}$/.test(c.root)) fail('commitment root must be 0x + 64 lowercase hex chars', cid)
  if (c.bytes !== total || c.leaves !== Math.ceil(total / LEAF_SIZE)) fail('commitment size does not match files', cid)
  return m
}

/** Parse manifest bytes: must be canonical JSON of a valid manifest (so the digest is unambiguous). */
export function parseManifest(bytes: Uint8Array, cid?: string): PackageManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) fail(`larger than ${MAX_MANIFEST_BYTES} bytes`, cid)
  let parsed: PackageManifest
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as PackageManifest
  } catch {
    fail('not UTF-8 JSON', cid)
  }
  const m = validateManifest(parsed, cid)
  if (!Buffer.from(canonicalManifestBytes(m)).equals(Buffer.from(bytes))) fail('not in canonical form', cid)
  return m
}
