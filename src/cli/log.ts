// Background failures the node survives but an operator must see: one line each on stderr.
import type { Block } from '@ethereumjs/block'

const line = (s: string) => process.stderr.write(`${new Date().toISOString()} ${s}\n`)
const reason = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** A committed block whose inference root could not be signed (lattice_getInferenceProof signs it on demand). */
export function logAttestationFailure(err: unknown, block: Block): void {
  line(`WARN could not sign the inference root of block ${block.header.number}: ${reason(err)}`)
}

/** Interval mining failed for one tick; the next tick tries again. */
export function logMiningFailure(err: unknown): void {
  line(`ERROR mining failed: ${reason(err)}`)
}

/** What the Engine API tells the operator: invalid payloads, transactions left out of a payload, failed builds. */
export function logEngine(text: string): void {
  line(`INFO ${text}`)
}
