// The adversarial gas vectors' format and how their outcome is computed: exactly what the precompile does before
// any work (static count under the current schedule; small integer inputs pass their values), then the call gas.
import { LatticeError } from '../../src/errors.ts'
import { countFlops, type InputShape } from '../../src/inference/flops.ts'
import { graphIO } from '../../src/inference/graph-io.ts'
import { inferenceGas } from '../../src/precompiles/params.ts'
import { recipeModel } from '../helpers/gas-models.ts'

/** One vector of adversarial-vectors.json. */
export interface AdversarialVector {
  name: string
  /** A recipe of test/helpers/gas-models.ts and its parameters. */
  recipe: string
  params?: Record<string, number>
  /** Inputs by name: dtype, shape and, for integer inputs, values. */
  input: Record<string, { dtype: string; shape: number[]; values?: number[] }>
  /** The call's gas (decimal string), when it is charged. */
  expectedGas?: string
  /** The error that refuses it before any work. */
  expectedError?: string
  /** `accepted`, or the reason registration refuses it. */
  registration?: string
}

const BYTES: Record<string, number> = { float32: 4, int64: 8, int32: 4, bool: 1, uint8: 1 }

/** The vector's model, and its call gas or the error that refuses it. */
export function vectorOutcome(v: AdversarialVector): { model: Uint8Array } & ({ gas: bigint } | { error: string }) {
  const model = recipeModel(v.recipe, v.params)
  const inputs: Record<string, InputShape> = {}
  let inBytes = 0
  for (const [name, t] of Object.entries(v.input)) {
    inputs[name] = t.values ? { shape: t.shape, values: t.values } : t.shape
    inBytes += t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype]
  }
  try {
    const r = countFlops({ model, inputs })
    let outBytes = 0
    for (const o of graphIO(model).outputs)
      outBytes += (r.outputShapes[o.name] ?? []).reduce((a, b) => a * b, 1) * (BYTES[o.dtype] ?? 4)
    return { model, gas: inferenceGas(BigInt(r.gas), inBytes, outBytes) }
  } catch (err) {
    if (err instanceof LatticeError) return { model, error: err.shortMessage }
    throw err
  }
}
