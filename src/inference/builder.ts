import onnxProto from 'onnx-proto'
import { DType } from './tensor.ts'

const { onnx } = onnxProto

/** ONNX element types (TensorProto.DataType) used by the builder: the codec's dtypes plus float64. */
export const ElemType = { ...DType, float64: 11 } as const

/** An attribute value, tagged with its ONNX attribute kind. */
export type AttrValue =
  | { f: number }
  | { i: number }
  | { s: string }
  | { floats: number[] }
  | { ints: number[] }
  | { t: Initializer }
  | { g: GraphSpec }

/** One node of a graph under construction. */
export interface NodeSpec {
  op: string
  inputs: string[]
  outputs: string[]
  name?: string
  domain?: string
  attrs?: Record<string, AttrValue>
}

/** A graph input or output: element type and shape (strings are symbolic dims). */
export interface ValueSpec {
  name: string
  elemType: number
  shape: (number | string)[]
}

/** A constant tensor: a typed array of the element type's JS storage. */
export interface Initializer {
  name: string
  elemType: number
  dims: number[]
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array
}

/** A graph: nodes in topological order, its inputs/outputs and constants. */
export interface GraphSpec {
  name?: string
  inputs: ValueSpec[]
  outputs: ValueSpec[]
  nodes: NodeSpec[]
  initializers?: Initializer[]
}

/** Options of {@link buildModel}; `opset` defaults to 17, `irVersion` to 8. */
export interface BuildModelOpts extends GraphSpec {
  opset?: number
  irVersion?: number
  producer?: string
  docString?: string
  /** Extra opset imports, e.g. `{ 'com.microsoft': 1 }`. */
  domains?: Record<string, number>
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  }
}

/** Encode an initializer as a TensorProto with little-endian raw_data. */
export function tensorProto(t: Initializer): onnxProto.onnx.ITensorProto {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
  return { name: t.name, dataType: t.elemType, dims: t.dims, rawData: new Uint8Array(bytes) }
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType
  if ('f' in v) return { name, type: T.FLOAT, f: v.f }
  if ('i' in v) return { name, type: T.INT, i: v.i }
  if ('s' in v) return { name, type: T.STRING, s: new TextEncoder().encode(v.s) }
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats }
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints }
  if ('t' in v) return { name, type: T.TENSOR, t: tensorProto(v.t) }
  return { name, type: T.GRAPH, g: graphProto(v.g) }
}

function graphProto(g: GraphSpec): onnxProto.onnx.IGraphProto {
  return {
    name: g.name ?? 'graph',
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: (g.initializers ?? []).map(tensorProto),
    node: g.nodes.map((n, i) => ({
      opType: n.op,
      name: n.name ?? `${n.op}_${i}`,
      domain: n.domain ?? '',
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
    })),
  }
}

/** Serialise a graph as ONNX model bytes. */
export function buildModel(opts: BuildModelOpts): Uint8Array {
  const opsetImport = [{ domain: '', version: opts.opset ?? 17 }]
  for (const [domain, version] of Object.entries(opts.domains ?? {})) opsetImport.push({ domain, version })
  return onnx.ModelProto.encode({
    irVersion: opts.irVersion ?? 8,
    producerName: opts.producer ?? 'lattice',
    docString: opts.docString ?? '',
    opsetImport,
    graph: graphProto(opts),
  }).finish()
}

/** A one-node model `y = Identity(x)` over float32[1], used to probe execution providers. */
export function probeModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', elemType: ElemType.float32, shape: [1] }],
    outputs: [{ name: 'y', elemType: ElemType.float32, shape: [1] }],
    nodes: [{ op: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
  })
}
