// Model packages are closed: an ONNX tensor may keep its bytes in an external-data file only when that file
// is part of the model's own package. The node resolves such references itself — by file name against the
// package's verified files, never through the filesystem path as written — and inlines the bytes into the
// ModelProto (raw_data) before any runtime sees the model. A runtime given a path (or bytes with EXTERNAL
// tensors) would open `location` relative to the process's working directory: `.env`, `/etc/passwd`, `../x`.
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { ModelCheckError, ModelLoadError } from './errors.ts'
import { decodeModel, encodeModel, type ModelProto, num, type TensorProto } from './proto.ts'

/** onnx.TensorProto.DataLocation.EXTERNAL */
const EXTERNAL = 1
/** protobuf messages over 2 GiB cannot be encoded; ONNX Runtime refuses them too. */
export const MAX_INLINED_MODEL_BYTES = 2 ** 31 - 1
const KNOWN_KEYS = new Set(['location', 'offset', 'length', 'checksum'])
/** A package file name: flat, no path separators, no leading dot (see storage/manifest.ts isValidFileName). */
const FILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/

/** Bytes per element of an ONNX TensorProto.DataType; 4-bit types are packed two per byte (-2). */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4, // float
  2: 1, // uint8
  3: 1, // int8
  4: 2, // uint16
  5: 2, // int16
  6: 4, // int32
  7: 8, // int64
  9: 1, // bool
  10: 2, // float16
  11: 8, // double
  12: 4, // uint32
  13: 8, // uint64
  14: 8, // complex64
  15: 16, // complex128
  16: 2, // bfloat16
  17: 1, // float8e4m3fn
  18: 1, // float8e4m3fnuz
  19: 1, // float8e5m2
  20: 1, // float8e5m2fnuz
  21: -2, // uint4
  22: -2, // int4
  23: -2, // float4e2m1
}

/** The files an external-data reference may name: the model's own package, already verified by the caller. */
export interface PackageFileReader {
  /** Size of the package file `name`, or undefined when the package has no such file. */
  size(name: string): number | undefined
  /** `length` bytes of `name` from `offset` (inside the file: the caller checked). */
  read(name: string, offset: number, length: number): Promise<Uint8Array>
}

/** One tensor that keeps its data outside the ModelProto. */
export interface ExternalTensor {
  tensor: TensorProto
  name: string
  location: string | undefined
}

function isExternal(t: TensorProto): boolean {
  return t.dataLocation === EXTERNAL || (Array.isArray(t.externalData) && t.externalData.length > 0)
}

/**
 * Every tensor of the model that points at external data: initializers, sparse initializers, Constant and
 * other attribute tensors, in subgraphs and functions too (a generic walk over the decoded message, so no
 * field that can carry a TensorProto is missed).
 */
export function externalTensors(model: ModelProto): ExternalTensor[] {
  const out: ExternalTensor[] = []
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return
    if (Array.isArray(v)) {
      // repeated numbers (float_data, dims) need no walk
      if (v.length > 0 && typeof v[0] === 'object') for (const x of v) walk(x)
      return
    }
    const o = v as Record<string, unknown>
    if ('externalData' in o && isExternal(o as TensorProto)) {
      const t = o as TensorProto
      const loc = t.externalData?.find((kv) => kv.key === 'location')?.value ?? undefined
      out.push({ tensor: t, name: t.name ?? '', location: loc })
    }
    for (const k of Object.keys(o)) walk(o[k])
  }
  walk(model)
  return out
}

/**
 * Refuse a model that still has EXTERNAL tensors: every session factory calls this before handing bytes to
 * a runtime, so no runtime ever resolves an external-data path on this machine's disk.
 */
export function assertSelfContained(model: Uint8Array | ModelProto): void {
  let m: ModelProto
  try {
    m = model instanceof Uint8Array ? decodeModel(model) : model
  } catch {
    return // not decodable: the runtime reports that itself, without reading any file
  }
  const ext = externalTensors(m)
  if (ext.length === 0) return
  const first = ext[0]
  throw new ModelLoadError(
    `tensor "${first.name}" keeps its data in external file ${JSON.stringify(first.location ?? '')}${ext.length > 1 ? ` (and ${ext.length - 1} more)` : ''}; a model must be self-contained (external data is inlined only from files of the model's own package)`,
  )
}

/** Bytes a tensor's data must have (dims x element size), or undefined for types without a fixed size. */
export function expectedTensorBytes(t: TensorProto): number | undefined {
  const per = ELEMENT_BYTES[t.dataType ?? 0]
  if (per === undefined) return undefined
  let n = 1
  for (const d of t.dims ?? []) {
    const v = num(d)
    if (!Number.isSafeInteger(v) || v < 0) return Number.POSITIVE_INFINITY
    n *= v
    if (!Number.isSafeInteger(n)) return Number.POSITIVE_INFINITY
  }
  return per > 0 ? n * per : Math.ceil(n / -per)
}

function intField(value: string | null | undefined, what: string, tensor: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new ModelCheckError(`tensor "${tensor}": external-data ${what} ${JSON.stringify(value)} is not a byte count`)
  return Number(value)
}

/**
 * Resolve one tensor's external-data reference against the package: the location must be a flat file name
 * of the package and offset/length inside that file, and the length must be the tensor's size.
 */
function resolve(e: ExternalTensor, files: PackageFileReader): { location: string; offset: number; length: number } {
  const t = e.tensor
  const where = `tensor "${e.name}"`
  if (t.dataLocation !== EXTERNAL)
    throw new ModelCheckError(`${where} has external_data entries but data_location is not EXTERNAL`)
  const seen = new Set<string>()
  for (const kv of t.externalData ?? []) {
    const key = kv.key ?? ''
    if (!KNOWN_KEYS.has(key)) throw new ModelCheckError(`${where}: unknown external-data key ${JSON.stringify(key)}`)
    if (seen.has(key)) throw new ModelCheckError(`${where}: external-data key "${key}" given twice`)
    seen.add(key)
  }
  const location = e.location
  if (!location) throw new ModelCheckError(`${where} is EXTERNAL but names no location`)
  if (!FILE_NAME_RE.test(location) || location.includes('..'))
    throw new ModelCheckError(
      `${where} keeps its data in ${JSON.stringify(location)}, which is not a file name of the package (external data must be a file beside the model, named without a path)`,
    )
  const size = files.size(location)
  if (size === undefined)
    throw new ModelCheckError(
      `${where} keeps its data in "${location}", which is not in the model's package; add the file to the package`,
    )
  const kv = (k: string) => t.externalData?.find((x) => x.key === k)?.value
  const offset = intField(kv('offset'), 'offset', e.name) ?? 0
  const given = intField(kv('length'), 'length', e.name)
  if (offset > size)
    throw new ModelCheckError(`${where}: offset ${offset} is past the end of "${location}" (${size} bytes)`)
  const length = given ?? size - offset
  if (offset + length > size)
    throw new ModelCheckError(`${where}: bytes ${offset}..${offset + length} are outside "${location}" (${size} bytes)`)
  const want = expectedTensorBytes(t)
  if (want === undefined)
    throw new ModelCheckError(`${where}: data type ${t.dataType} cannot be stored as external data`)
  if (length !== want)
    throw new ModelCheckError(
      `${where}: its dims [${(t.dims ?? []).map(num).join(',')}] need ${want} bytes but the external data has ${length}`,
    )
  return { location, offset, length }
}

/**
 * Inline every external-data tensor from the package's own files. Returns the bytes unchanged when the model
 * has no external data. Throws ModelCheckError naming the tensor for any reference outside the package.
 */
export async function inlineExternalData(
  model: Uint8Array,
  files: PackageFileReader,
  opts: { maxBytes?: number } = {},
): Promise<Uint8Array> {
  let m: ModelProto
  try {
    m = decodeModel(model)
  } catch {
    return model // not an ONNX model: the model checks report it
  }
  const ext = externalTensors(m)
  if (ext.length === 0) return model
  const refs = ext.map((e) => resolve(e, files))
  const total = refs.reduce((s, r) => s + r.length, model.byteLength)
  const max = opts.maxBytes ?? MAX_INLINED_MODEL_BYTES
  if (total > max)
    throw new ModelCheckError(
      `the model with its external data is ${total} bytes; over ${max} bytes it cannot be inlined into one ONNX file`,
    )
  for (const [i, e] of ext.entries()) {
    const r = refs[i]
    e.tensor.rawData = await files.read(r.location, r.offset, r.length)
    e.tensor.externalData = []
    delete (e.tensor as { dataLocation?: number }).dataLocation
  }
  return encodeModel(m)
}

/** A reader over files in a directory; only the names in `sizes` exist (the package's verified files). */
export function dirFileReader(dir: string, sizes: ReadonlyMap<string, number>): PackageFileReader {
  return {
    size: (name) => sizes.get(name),
    async read(name, offset, length) {
      if (!sizes.has(name)) throw new ModelCheckError(`"${name}" is not in the package`)
      const buf = new Uint8Array(length)
      const fh = await open(join(dir, name), 'r')
      try {
        let done = 0
        while (done < length) {
          const { bytesRead } = await fh.read(buf, done, length - done, offset + done)
          if (bytesRead === 0) throw new ModelCheckError(`"${name}" is shorter than the package says`)
          done += bytesRead
        }
      } finally {
        await fh.close()
      }
      return buf
    },
  }
}

/** A reader over in-memory files. */
export function memoryFileReader(files: readonly { name: string; data: Uint8Array }[]): PackageFileReader {
  const map = new Map(files.map((f) => [f.name, f.data]))
  return {
    size: (name) => map.get(name)?.byteLength,
    async read(name, offset, length) {
      const d = map.get(name)
      if (!d) throw new ModelCheckError(`"${name}" is not in the package`)
      return d.slice(offset, offset + length)
    },
  }
}
