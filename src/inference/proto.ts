// Decoding helpers over onnx-proto's generated types (int64 fields arrive as Long objects).
import onnxProto from 'onnx-proto'
import { ModelDecodeError } from './errors.ts'

const { onnx } = onnxProto
export type ModelProto = onnxProto.onnx.ModelProto
export type GraphProto = onnxProto.onnx.IGraphProto
export type NodeProto = onnxProto.onnx.INodeProto
export type TensorProto = onnxProto.onnx.ITensorProto
export type AttributeProto = onnxProto.onnx.IAttributeProto
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto

/** Marker the fixture export script writes on initializers whose data it removed. */
export const STRIPPED_MARK = 'lattice:stripped'

/** int64 field (number or Long) to a JS number. */
export function num(x: unknown): number {
  if (typeof x === 'number') return x
  if (typeof x === 'bigint') return Number(x)
  if (x && typeof x === 'object' && 'toNumber' in x) return (x as { toNumber(): number }).toNumber()
  return Number(x ?? 0)
}

/** Decode ONNX model bytes. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    const m = onnx.ModelProto.decode(bytes)
    if (!m.graph) throw new ModelDecodeError('it has no graph')
    return m
  } catch (err) {
    if (err instanceof ModelDecodeError) throw err
    throw new ModelDecodeError((err as Error).message, { cause: err })
  }
}

/** Encode a model back to bytes. */
export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish()
}

/** Default-domain opset version of a model. */
export function opsetOf(m: ModelProto, domain = ''): number {
  for (const o of m.opsetImport ?? []) {
    const d = o.domain ?? ''
    if (d === domain || (domain === '' && d === 'ai.onnx')) return num(o.version)
  }
  return domain === '' ? 1 : 0
}

/** Elements of a tensor proto's dims. */
export function protoDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(num)
}

const RAW_READERS: Record<number, [number, (dv: DataView, o: number) => number]> = {
  1: [4, (dv, o) => dv.getFloat32(o, true)],
  2: [1, (dv, o) => dv.getUint8(o)],
  3: [1, (dv, o) => dv.getInt8(o)],
  4: [2, (dv, o) => dv.getUint16(o, true)],
  5: [2, (dv, o) => dv.getInt16(o, true)],
  6: [4, (dv, o) => dv.getInt32(o, true)],
  7: [8, (dv, o) => Number(dv.getBigInt64(o, true))],
  9: [1, (dv, o) => dv.getUint8(o)],
  11: [8, (dv, o) => dv.getFloat64(o, true)],
  12: [4, (dv, o) => dv.getUint32(o, true)],
  13: [8, (dv, o) => Number(dv.getBigUint64(o, true))],
}

/**
 * Values of a tensor proto as numbers (int64 through Number), or undefined when it has no readable data
 * (external data, stripped fixture, strings, float16 etc.).
 */
export function protoValues(t: TensorProto): number[] | undefined {
  const n = protoDims(t).reduce((a, b) => a * b, 1)
  const dt = t.dataType ?? 0
  if (t.rawData && t.rawData.length > 0) {
    const r = RAW_READERS[dt]
    if (!r || t.rawData.length !== n * r[0]) return undefined
    const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength)
    const out = new Array<number>(n)
    for (let i = 0; i < n; i++) out[i] = r[1](dv, i * r[0])
    return out
  }
  const field =
    dt === 1
      ? t.floatData
      : dt === 7
        ? t.int64Data
        : dt === 11
          ? t.doubleData
          : dt === 12 || dt === 13
            ? t.uint64Data
            : [2, 3, 4, 5, 6, 9].includes(dt)
              ? t.int32Data
              : undefined
  if (!field || field.length !== n) return n === 0 ? [] : undefined
  return (field as unknown[]).map(num)
}

/** Attribute lookup over a node. */
export class Attrs {
  private readonly map = new Map<string, AttributeProto>()
  constructor(node: NodeProto) {
    for (const a of node.attribute ?? []) if (a.name) this.map.set(a.name, a)
  }
  has(name: string): boolean {
    return this.map.has(name)
  }
  int(name: string, def: number): number
  int(name: string): number | undefined
  int(name: string, def?: number): number | undefined {
    const a = this.map.get(name)
    return a ? num(a.i) : def
  }
  ints(name: string): number[] | undefined {
    const a = this.map.get(name)
    return a ? (a.ints ?? []).map(num) : undefined
  }
  float(name: string, def: number): number {
    const a = this.map.get(name)
    return a ? (a.f ?? def) : def
  }
  floats(name: string): number[] | undefined {
    const a = this.map.get(name)
    return a ? [...(a.floats ?? [])] : undefined
  }
  str(name: string, def: string): string {
    const a = this.map.get(name)
    return a?.s ? new TextDecoder().decode(a.s) : def
  }
  strs(name: string): string[] | undefined {
    const a = this.map.get(name)
    return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : undefined
  }
  tensor(name: string): TensorProto | undefined {
    return this.map.get(name)?.t ?? undefined
  }
  graph(name: string): GraphProto | undefined {
    return this.map.get(name)?.g ?? undefined
  }
}
