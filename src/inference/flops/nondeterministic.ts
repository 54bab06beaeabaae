// Finding ops whose outputs are not a function of the inputs (deploy and the precompile refuse them).
import type { GraphProto } from '../proto.ts'
import { decodeModel } from '../proto.ts'

/** Ops whose outputs depend on a random generator: a consensus model must not contain them. */
export const NONDETERMINISTIC_OPS: readonly string[] = [
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
]

/**
 * Names (`op (node)`) of the nodes, subgraphs included, whose outputs are not a function of the inputs: random ops,
 * and Dropout with a training_mode input (it may be true at run time).
 */
export function findNondeterministicOps(model: Uint8Array): string[] {
  const out: string[] = []
  const walk = (g: GraphProto): void => {
    for (const n of g.node ?? []) {
      const op = n.opType ?? ''
      if (NONDETERMINISTIC_OPS.includes(op) || (op === 'Dropout' && n.input?.[2]))
        out.push(`${op} (${n.name || n.output?.[0]})`)
      for (const a of n.attribute ?? []) {
        if (a.g) walk(a.g)
        for (const sg of a.graphs ?? []) walk(sg)
      }
    }
  }
  walk(decodeModel(model).graph as GraphProto)
  return out
}
