// Parameter parsing of the lattice_* namespace: every bad value is a -32602 error naming the parameter.
import type { LatticeError } from '../errors.ts'
import type { ModelAnalysis } from '../inference/analysis.ts'
import { formatTensorJson, parseTensorJson } from '../inference/json.ts'
import type { Tensor } from '../inference/tensor.ts'
import { isValidFileName } from '../storage/manifest.ts'
import { invalidParams } from './errors.ts'
import type { UploadFile } from './uploads.ts'

/** Registry access-policy codes by name. */
export const POLICY_CODES = { public: 0, private: 1, allowlist: 2 } as const

/** Largest model or file accepted inline by lattice_deployModel (the RPC body limit is 5 MiB of base64). */
export const MAX_INLINE_PACKAGE_BYTES = 3 * 1024 * 1024

export type Obj = Record<string, unknown>

export function object(v: unknown, name: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidParams(`invalid argument ${name}: expected an object, got ${show(v)}`)
  return v as Obj
}

export function optObject(v: unknown, name: string): Obj {
  return v === undefined || v === null ? {} : object(v, name)
}

export function onlyKeys(o: Obj, name: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k))
      throw invalidParams(`invalid argument ${name}: unknown field "${k}" (known: ${keys.join(', ')})`)
  }
}

export function str(v: unknown, name: string, opts: { max?: number; optional?: boolean } = {}): string | undefined {
  if (v === undefined || v === null) {
    if (opts.optional) return undefined
    throw invalidParams(`missing argument ${name}: expected a non-empty string`)
  }
  if (typeof v !== 'string' || v.length === 0)
    throw invalidParams(`invalid argument ${name}: expected a non-empty string, got ${show(v)}`)
  if (v.length > (opts.max ?? 256))
    throw invalidParams(`invalid argument ${name}: longer than ${opts.max ?? 256} characters`)
  return v
}

export function modelIdParam(v: unknown, name = 'modelId'): string {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(v))
    throw invalidParams(
      `invalid argument ${name}: expected a 32-byte hex model id (0x + 64 hex digits), got ${show(v)}`,
    )
  return v.toLowerCase()
}

export function uint(v: unknown, name: string, max: number): number | undefined {
  if (v === undefined || v === null) return undefined
  const n = typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v) ? Number.parseInt(v, 16) : v
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max)
    throw invalidParams(`invalid argument ${name}: expected an integer from 0 to ${max}, got ${show(v)}`)
  return n
}

export function wei(v: unknown, name: string): bigint {
  if (v === undefined || v === null) return 0n
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(v)) {
    const n = BigInt(v)
    if (n < 1n << 256n) return n
  }
  throw invalidParams(`invalid argument ${name}: expected wei as a decimal string or 0x quantity, got ${show(v)}`)
}

export function policyParam(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'string' && v in POLICY_CODES) return POLICY_CODES[v as keyof typeof POLICY_CODES]
  if (typeof v === 'number' && (v === 0 || v === 1 || v === 2)) return v
  throw invalidParams(`invalid argument ${name}: expected "public", "private" or "allowlist", got ${show(v)}`)
}

export function base64(v: unknown, name: string): Uint8Array {
  if (typeof v !== 'string' || v.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0)
    throw invalidParams(`invalid argument ${name}: expected the file's bytes as a base64 string`)
  return new Uint8Array(Buffer.from(v, 'base64'))
}

export function show(v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** Input tensors in the shared tensor JSON form: `{"x": {"dtype", "shape", "data"}}` or bare arrays. */
export function tensorsParam(v: unknown, name: string, io?: ModelAnalysis): Tensor[] {
  object(v, name)
  try {
    return parseTensorJson({ inputs: v }, { model: io?.io.inputs })
  } catch (err) {
    throw invalidParams(`invalid argument ${name}: ${(err as LatticeError).shortMessage ?? String(err)}`)
  }
}

/** JSON of tensors as `{"name": {"dtype", "shape", "data"}}` (the `outputs` object of the tensor JSON format). */
export function tensorsJson(tensors: readonly Tensor[]): unknown {
  return (JSON.parse(formatTensorJson(tensors)) as { outputs: unknown }).outputs
}

export function shapesParam(v: unknown): Record<string, number[]> {
  if (v === undefined || v === null) return {}
  const o = object(v, 'request.inputShapes')
  const out: Record<string, number[]> = {}
  for (const [k, s] of Object.entries(o)) {
    if (!Array.isArray(s) || s.some((d) => !Number.isSafeInteger(d) || (d as number) < 0))
      throw invalidParams(`invalid argument request.inputShapes.${k}: expected an array of dims, e.g. [1, 3, 224, 224]`)
    out[k] = s as number[]
  }
  return out
}

export function filesParam(o: Obj): { name: string; data: Uint8Array }[] {
  let files: { name: string; data: Uint8Array }[]
  if (o.model !== undefined && o.model !== null) {
    const fileName = str(o.modelFile, 'request.modelFile', { optional: true }) ?? 'model.onnx'
    if (!fileName.endsWith('.onnx') || !isValidFileName(fileName))
      throw invalidParams(
        `invalid argument request.modelFile: expected a file name ending in .onnx, got ${show(fileName)}`,
      )
    files = [{ name: fileName, data: base64(o.model, 'request.model') }]
  } else {
    if (!Array.isArray(o.files) || o.files.length === 0)
      throw invalidParams('invalid argument request.files: expected a non-empty array of {name, data}')
    files = o.files.map((f, i) => {
      const e = object(f, `request.files[${i}]`)
      const n = str(e.name, `request.files[${i}].name`) as string
      if (!isValidFileName(n))
        throw invalidParams(`invalid argument request.files[${i}].name: ${show(n)} is not a valid package file name`)
      return { name: n, data: base64(e.data, `request.files[${i}].data`) }
    })
    const names = new Set<string>()
    for (const [i, f] of files.entries()) {
      if (names.has(f.name)) throw invalidParams(`invalid argument request.files[${i}].name: duplicate ${show(f.name)}`)
      names.add(f.name)
    }
    const models = files.filter((f) => f.name.toLowerCase().endsWith('.onnx'))
    if (models.length !== 1)
      throw invalidParams(
        `invalid argument request.files: expected exactly one .onnx file, got ${models.length} (${models.map((m) => m.name).join(', ') || 'none'})`,
      )
  }
  const total = files.reduce((a, f) => a + f.data.length, 0)
  if (total > MAX_INLINE_PACKAGE_BYTES)
    throw invalidParams(
      `invalid argument request.files: ${total} bytes is more than the ${MAX_INLINE_PACKAGE_BYTES} bytes accepted inline; stage it with lattice_createUpload and lattice_uploadChunk, then pass "upload"`,
    )
  return files
}

/** A declared upload file list `[{name, size, sha256}]`. */
export function uploadFilesParam(v: unknown, name: string): UploadFile[] {
  if (!Array.isArray(v) || v.length === 0)
    throw invalidParams(`invalid argument ${name}: expected a non-empty array of {name, size, sha256}`)
  return v.map((f, i) => {
    const e = object(f, `${name}[${i}]`)
    onlyKeys(e, `${name}[${i}]`, ['name', 'size', 'sha256'])
    const fileName = str(e.name, `${name}[${i}].name`) as string
    const size = uint(e.size, `${name}[${i}].size`, Number.MAX_SAFE_INTEGER)
    if (size === undefined) throw invalidParams(`missing argument ${name}[${i}].size: expected a byte count`)
    if (typeof e.sha256 !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(e.sha256))
      throw invalidParams(`invalid argument ${name}[${i}].sha256: expected 64 hex digits, got ${show(e.sha256)}`)
    return { name: fileName, size, sha256: e.sha256.replace(/^0x/, '').toLowerCase() }
  })
}

/** An upload authorisation `{expires, signature?}`. */
export function authParam(v: unknown, name: string): { expires: number; signature?: string } {
  const o = object(v, name)
  onlyKeys(o, name, ['expires', 'signature'])
  const expires = uint(o.expires, `${name}.expires`, Number.MAX_SAFE_INTEGER)
  if (expires === undefined) throw invalidParams(`missing argument ${name}.expires: expected unix seconds`)
  const signature = str(o.signature, `${name}.signature`, { optional: true, max: 200 })
  return { expires, ...(signature ? { signature } : {}) }
}
