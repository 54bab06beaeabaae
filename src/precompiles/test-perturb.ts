// TEST-ONLY: LATTICE_TEST_PERTURB_INFERENCE=<modelId | *> makes this node flip the lowest bit of the first byte of
// the first output of every inference of that model (any model for `*`). It exists so tests can stand up a node that
// disagrees with its peers about an inference and check that it answers the Engine API's newPayload with INVALID
// naming the state root and the inference. Never set it on a real node: such a node computes wrong blocks.
import type { Tensor } from '../inference/tensor.ts'

/** The environment variable that turns the perturbation on (test-only). */
export const PERTURB_ENV = 'LATTICE_TEST_PERTURB_INFERENCE'

/** `outputs`, perturbed when the test-only switch names `modelId` (or `*`); unchanged otherwise. */
export function perturbForTest(modelId: string, outputs: Tensor[]): Tensor[] {
  const target = process.env[PERTURB_ENV]
  if (!target || (target !== '*' && target.toLowerCase() !== modelId.toLowerCase())) return outputs
  const first = outputs[0]
  if (!first || first.data.length === 0) return outputs
  const data = first.data.slice()
  data[0] ^= 1
  return [{ ...first, data }, ...outputs.slice(1)]
}
