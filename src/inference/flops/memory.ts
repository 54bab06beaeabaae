// What the static memory bound needs: the bytes of a tensor info and where each value is last used, so a
// graph's live set can be followed node by node in sequential execution (docs/gas.md, "Memory bound").
import { ELEM_NAMES } from '../graph-io.ts'
import type { GraphProto, NodeProto } from '../proto.ts'
import type { Info } from './common.ts'
import { numel } from './common.ts'

/** Bytes per element by ONNX TensorProto.DataType; strings are counted at 16 bytes (a pointer and a length). */
const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  8: 16,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
}

// ONNX element types by code; bfloat16 too (sized here, though ONNX Runtime's JS API has no name for it)
const DTYPE_NAMES: Readonly<Record<number, string>> = { ...ELEM_NAMES, 16: 'bfloat16' }

/** `float32`, or `dtype 17` for types without a name here. */
export const dtypeLabel = (code: number): string => DTYPE_NAMES[code] ?? `dtype ${code}`

/** Bytes a tensor (or every element of a sequence) occupies; unknown and 8-bit-or-less types count 1 per element. */
export function infoBytes(i: Info): number {
  if (i.seq) return i.seq.reduce((s, e) => s + infoBytes(e), 0)
  return numel(i.shape) * (ELEMENT_BYTES[i.dtype] ?? 1)
}

/** Every value name a node reads, its subgraphs' references to enclosing scopes included. */
function refsOf(node: NodeProto, into: string[]): string[] {
  for (const n of node.input ?? []) if (n) into.push(n)
  for (const a of node.attribute ?? []) {
    const graphs = a.g ? [a.g, ...(a.graphs ?? [])] : (a.graphs ?? [])
    for (const g of graphs) for (const inner of g.node ?? []) refsOf(inner, into)
  }
  return into
}

const LAST_USES = new WeakMap<GraphProto, Map<string, number>>()

/** Index of the last node of `g` that reads each name (subgraph references count as reads by their node). */
export function lastUses(g: GraphProto): Map<string, number> {
  const hit = LAST_USES.get(g)
  if (hit) return hit
  const last = new Map<string, number>()
  ;(g.node ?? []).forEach((node, i) => {
    for (const name of refsOf(node, [])) last.set(name, i)
  })
  LAST_USES.set(g, last)
  return last
}
