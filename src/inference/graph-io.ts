import type { ValueInfoProto } from './proto.ts'
import { decodeModel, num } from './proto.ts'
import type { ValueInfo } from './validate.ts'

/** ONNX TensorProto.DataType codes to ONNX Runtime's dtype names. */
export const ELEM_NAMES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
}

/** A model's declared inputs (initializers excluded) and outputs, read from the graph without a session. */
export interface GraphIO {
  inputs: ValueInfo[]
  outputs: ValueInfo[]
}

function info(v: ValueInfoProto): ValueInfo {
  const t = v.type?.tensorType
  const dims = t?.shape?.dim ?? []
  return {
    name: v.name ?? '',
    dtype: ELEM_NAMES[num(t?.elemType)] ?? `type${num(t?.elemType)}`,
    shape: dims.map((d) =>
      d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0 ? num(d.dimValue) : (d.dimParam ?? ''),
    ),
  }
}

/** Read a model's graph inputs and outputs (cheap next to creating a session). */
export function graphIO(model: Uint8Array): GraphIO {
  const g = decodeModel(model).graph!
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''))
  return {
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(info),
    outputs: (g.output ?? []).map(info),
  }
}
