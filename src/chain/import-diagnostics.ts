// What `lattice import` says when a block with inferences does not reproduce: the inferences this node ran and
// the output hash it computed for each, so an operator can compare them with another node's records
// (`lattice_getInferenceProof`, `lattice proof get`) and see which model's bits differ (docs/determinism.md).
import type { InferenceRecord } from '../precompiles/records.ts'
import type { BlockInferenceRecord } from './inference-records.ts'

// runBlock's messages for a block whose execution gave other results than its header claims
const MISMATCH = /invalid (block stateRoot|receiptTrie|gasUsed|bloom)/

function line(txHash: string, r: InferenceRecord): string {
  return `  tx ${txHash} inference #${r.index}: model ${r.modelId} output hash ${r.outputHash} (input hash ${r.inputHash})`
}

/**
 * The text appended to a block import error: empty unless `err` is a results mismatch and this node ran
 * inferences in the block or applies the inference root of the parent's (a block commits its parent's
 * inference root to state, so outputs that differ in block N show as a state-root mismatch at N or N+1).
 */
export function describeInferenceMismatch(
  err: unknown,
  block: { number: bigint; records: ReadonlyMap<string, readonly InferenceRecord[]> },
  parent: { number: bigint; records: readonly BlockInferenceRecord[] },
  profileId?: string,
): string {
  const msg = String((err as Error)?.message ?? err)
  if (!MISMATCH.test(msg)) return ''
  const own = [...block.records].flatMap(([tx, rs]) => rs.map((r) => line(tx, r)))
  const inherited = parent.records.map((r) => line(r.txHash, r))
  if (own.length === 0 && inherited.length === 0) return ''
  const under = profileId ? ` under inference profile ${profileId}` : ''
  const parts = [
    `. The block's results depend on inference outputs: this node's outputs${under} may differ from the validator's. Compare these output hashes with another node's (lattice_getInferenceProof, lattice proof get):`,
  ]
  if (own.length > 0) parts.push(`inferences this node ran in block ${block.number}:`, ...own)
  if (inherited.length > 0) {
    parts.push(`inferences of block ${parent.number}, whose inference root this block commits:`, ...inherited)
  }
  return parts.join('\n')
}
