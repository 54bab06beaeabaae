// What `model deploy` and lattice_deployModel check before a model goes on IPFS and into the registry.
import { fmtShape, ModelCheckError } from './errors.ts'
import type { InputShape } from './flops.ts'
import { countFlops, findNondeterministicOps } from './flops.ts'
import type { GraphIO } from './graph-io.ts'
import { graphIO } from './graph-io.ts'
import type { ValueInfo } from './validate.ts'

/** What {@link analyseModel} found. */
export interface ModelAnalysis {
  io: GraphIO
  /** `x:float32[3,4] -> probabilities:float32[3,3]`: what the registry's `io` field holds. */
  ioSummary: string
  /** FLOPs of one run at the declared (or given) input shapes; null when an input has a dynamic dim. */
  flops: number | null
  /** Why `flops` is null. */
  flopsNote?: string
}

const sig = (v: ValueInfo) => `${v.name}:${v.dtype}${fmtShape(v.shape)}`

/**
 * Decode a model's graph, refuse random ops (every validator would get a different answer), and count its
 * FLOPs for the declared static input shapes (or `shapes`). Throws ModelCheckError.
 */
export function analyseModel(model: Uint8Array, shapes: Record<string, InputShape> = {}): ModelAnalysis {
  let io: GraphIO
  try {
    io = graphIO(model)
  } catch (err) {
    throw new ModelCheckError(
      `the file is not an ONNX model (${(err as Error).message}); pass the .onnx file exported from your framework`,
    )
  }
  if (io.inputs.length === 0 && io.outputs.length === 0) {
    throw new ModelCheckError(
      'the file decodes to an empty ONNX graph; pass the .onnx file exported from your framework',
    )
  }
  const random = findNondeterministicOps(model)
  if (random.length > 0) {
    throw new ModelCheckError(
      `the model uses nondeterministic ops (${random.join(', ')}), which cannot run on-chain; export it in inference mode without random ops`,
    )
  }
  const ioSummary = `${io.inputs.map(sig).join(',')} -> ${io.outputs.map(sig).join(',')}`
  const dynamic = io.inputs.filter((i) => !shapes[i.name] && i.shape.some((d) => typeof d !== 'number'))
  if (dynamic.length > 0) {
    return {
      io,
      ioSummary,
      flops: null,
      flopsNote: `inputs with dynamic dims (${dynamic.map(sig).join(', ')}); pass concrete shapes to count FLOPs`,
    }
  }
  const inputs: Record<string, InputShape> = {}
  for (const i of io.inputs) inputs[i.name] = shapes[i.name] ?? (i.shape as number[])
  try {
    return { io, ioSummary, flops: countFlops({ model, inputs }).flops }
  } catch (err) {
    throw new ModelCheckError(`cannot count the model's FLOPs: ${(err as Error).message}`)
  }
}
