// Errors of the static cost and memory bound (the counter's shape errors live in ../errors.ts).
import { LatticeError } from '../../errors.ts'
import { fmtShape } from '../errors.ts'

/** `268435456` as `256 MiB`. */
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} bytes`
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} bytes` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`
}

/** The live tensors of one call would exceed the per-call memory bound. Names the node and its largest output. */
export class MemoryBoundError extends LatticeError {
  readonly op: string
  readonly node: string
  /** Live bytes at that node. */
  readonly bytes: number
  readonly limit: number
  constructor(
    op: string,
    node: string,
    bytes: number,
    limit: number,
    tensor?: { name: string; dtype: string; shape: readonly number[]; bytes: number },
  ) {
    const t = tensor
      ? `; its output "${tensor.name}" is ${tensor.dtype}${fmtShape(tensor.shape)}, ${fmtBytes(tensor.bytes)}`
      : ''
    super(
      'GAS_MEMORY_BOUND',
      `node "${node}" (${op}) needs ${fmtBytes(bytes)} of live tensors${t}; the per-call limit is ${fmtBytes(limit)}`,
    )
    this.op = op
    this.node = node
    this.bytes = bytes
    this.limit = limit
  }
}

/** The graph has more nodes than the schedule allows (subgraphs included). */
export class GraphSizeError extends LatticeError {
  readonly nodes: number
  constructor(nodes: number, limit: number) {
    super('GAS_GRAPH_SIZE', `the graph has ${nodes} nodes (subgraphs included); the limit is ${limit}`)
    this.nodes = nodes
  }
}
