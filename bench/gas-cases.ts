// The cases bench/gas.ts times: one graph per op family (and per op where the schedule prices an op apart), the
// example models, and graphs large enough that counting them is the work. Shared with fitting scripts.
import { exampleModels } from '../examples/models/index.ts'
import { DType, type Tensor } from '../src/inference/tensor.ts'
import { familyModel, recipeModel } from '../test/helpers/gas-models.ts'

/** One timed case: a model and the inputs of one call. */
export interface GasCase {
  name: string
  model: Uint8Array
  inputs: Tensor[]
}

/** A deterministic float32 input. */
export const floatInput = (name: string, shape: number[]): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1)
  const v = new Float32Array(n)
  for (let i = 0; i < n; i++) v[i] = ((i * 2654435761) % 1000) / 1000 - 0.5
  return { name, dtype: DType.float32, shape, data: new Uint8Array(v.buffer) }
}

const recipe = (name: string, r: string, p: Record<string, number>, shape: number[]): GasCase => ({
  name,
  model: recipeModel(r, p),
  inputs: [floatInput('x', shape)],
})

const family = (name: string, step: string, rows: number, cols: number, depth: number): GasCase => ({
  name,
  model: familyModel(step, { rows, cols, depth }),
  inputs: [floatInput('x', [1, cols])],
})

/**
 * One graph per op family: a tiny input expanded inside the model, a chain of the family's ops, a sum out. The
 * call's I/O is negligible, so its time is the family's work (plus the Expand and the sum, priced too).
 */
export function familyCases(): GasCase[] {
  const M = 1024
  return [
    family('mac: MatMul 256x512 @ 512x512, x4', 'matmul', 256, 512, 4),
    recipe('mac: Conv 3x3 32ch 64x64, x4', 'convChain', { c: 32, h: 64, w: 64, depth: 4 }, [1, 32, 1, 1]),
    family('elementwise: Add 1Mi, x16', 'add', M, M, 16),
    family('elementwise: Mul 1Mi, x16', 'mul', M, M, 16),
    family('elementwise: Relu 1Mi, x16', 'relu', M, M, 16),
    family('transcendental: Tanh 1Mi, x8', 'tanh', M, M, 8),
    family('transcendental: Erf 1Mi, x8', 'erf', M, M, 8),
    family('transcendental: Sigmoid 1Mi, x8', 'sigmoid', M, M, 8),
    family('reduction: ReduceSum rows + Add 1Mi, x8', 'reducesum', M, M, 8),
    family('reduction: ReduceMax rows + Sub 1Mi, x8', 'reducemax', M, M, 8),
    recipe('reduction: MaxPool 3x3 16ch 128x128, x4', 'poolChain', { c: 16, h: 128, w: 128, depth: 4 }, [1, 16, 1, 1]),
    family('normalisation: Softmax 1Mi, x8', 'softmax', M, M, 8),
    family('normalisation: LayerNorm 1Mi, x8', 'layernorm', M, M, 8),
    family('movement: Slice + Pad 1Mi, x8', 'slicepad', M, M, 8),
    family('movement: Concat + Split 1Mi, x8', 'concatsplit', M, M, 8),
    family('movement: Tile + Slice + Pad 1Mi, x4', 'tileslice', M, M, 4),
    family('permute: Transpose x2 1Mi, x4', 'transpose', M, M, 4),
    family('permute: Gather rows 1Mi, x8', 'gather', M, M, 8),
    recipe('permute: Resize x8 nearest 3x64x64', 'resizeSum', { c: 3, h: 64, w: 64, scale: 8 }, [1, 3, 64, 64]),
    family('shape: Reshape x2 1Mi, x200', 'reshape', M, M, 200),
    family('per node: Relu [1,16], x2000', 'relu', 1, 16, 2000),
    recipe('control: Loop x2000, Add over [16]', 'loop', { n: 16, trips: 2000 }, [16]),
    recipe(
      'adversarial: Tile->Transpose->Slice 16384x1024',
      'tileTransposeSlice',
      { r: 16, c: 1024, times: 1024 },
      [16, 1024],
    ),
  ]
}

/** The example models with their sample inputs (silero-vad needs its `sr` value, which the bench does not pass). */
export function exampleCases(): GasCase[] {
  return exampleModels()
    .filter((m) => m.name !== 'silero-vad')
    .map((m) => ({ name: `example: ${m.name}`, model: m.bytes, inputs: m.sampleInput }))
}

/** Calls refused while counting, through the node: their time is the counting the base and countGas pay for. */
export function refusedCases(): GasCase[] {
  return [2_000, 20_000, 49_000].map((n) => ({
    name: `refused while counting: ${n.toLocaleString('en')}-node graph`,
    model: recipeModel('refusedChain', { nodes: n }),
    inputs: [floatInput('x', [1, 4, 2, 2])],
  }))
}
