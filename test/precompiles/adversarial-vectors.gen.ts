/**
 * Regenerates adversarial-vectors.json: `node --import tsx test/precompiles/adversarial-vectors.gen.ts`.
 * Each vector names a model recipe (test/helpers/gas-models.ts) and an input; the expected outcome is what the
 * current gas schedule gives: an error before any work, or the call's gas. Rerun after a change of prices
 * (a new schedule), and say why in the commit.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { LatticeError } from '../../src/errors.ts'
import { checkModelBounds } from '../../src/inference/flops.ts'
import { type AdversarialVector, vectorOutcome } from './adversarial-vectors.ts'

const f32 = (shape: number[]) => ({ dtype: 'float32', shape })
const i64 = (shape: number[], values: number[]) => ({ dtype: 'int64', shape, values })

const specs: Omit<AdversarialVector, 'expectedGas' | 'expectedError' | 'registration'>[] = [
  {
    name: 'Tile -> Transpose -> Slice over 16384x1024',
    recipe: 'tileTransposeSlice',
    params: { r: 16, c: 1024, times: 1024 },
    input: { x: f32([16, 1024]) },
  },
  { name: 'Expand to 1e9 elements', recipe: 'expand', params: { n: 1e9 }, input: { x: f32([1]) } },
  { name: 'ConstantOfShape with a huge shape input', recipe: 'constantOfShape', input: { shape: i64([1], [1e12]) } },
  { name: 'Range with a huge limit', recipe: 'range', input: { limit: i64([], [1e12]) } },
  { name: 'Range whose limit is computed from float data', recipe: 'rangeFromData', input: { x: f32([1]) } },
  {
    name: 'Resize by 1000',
    recipe: 'resize',
    params: { c: 3, h: 64, w: 64, scale: 1000 },
    input: { x: f32([1, 3, 64, 64]) },
  },
  { name: 'Loop with 1e6 iterations', recipe: 'loop', params: { n: 16, trips: 1e6 }, input: { x: f32([16]) } },
  { name: 'a 100k-node graph', recipe: 'chain', params: { n: 16, depth: 100_000, op: 1 }, input: { x: f32([16]) } },
  {
    name: 'a Reshape chain (2000 Reshapes of 4 MiB)',
    recipe: 'expandReshapeChain',
    params: { r: 1024, c: 1024, depth: 1000 },
    input: { x: f32([1, 1024]) },
  },
  {
    name: 'Concat of a tensor with itself 1000 times',
    recipe: 'concat',
    params: { r: 16, c: 1024, times: 1000 },
    input: { x: f32([16, 1024]) },
  },
]

const vectors: AdversarialVector[] = specs.map((s) => {
  const v = { ...s } as AdversarialVector
  const outcome = vectorOutcome(v)
  if ('error' in outcome) v.expectedError = outcome.error
  else v.expectedGas = outcome.gas.toString()
  try {
    checkModelBounds(outcome.model)
    v.registration = 'accepted'
  } catch (err) {
    v.registration = err instanceof LatticeError ? err.shortMessage : String(err)
  }
  return v
})
const out = fileURLToPath(new URL('./adversarial-vectors.json', import.meta.url))
writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`)
// the repository's JSON style (biome), so a regeneration diffs only in what changed
execFileSync('npx', ['biome', 'format', '--write', out], { stdio: 'ignore' })
console.log(`${vectors.length} vectors written`)
