// Otterscan's views of one transaction, derived from the callTracer's frame tree (src/chain/trace.ts): the flat
// trace of ots_traceTransaction, the internal operations, and every address the transaction touched.
import type { CallFrame } from '../chain/trace.ts'

/** One entry of ots_traceTransaction. */
export interface OtsTraceEntry {
  type: string
  depth: number
  from: string
  to: string
  value: string
  input: string
  output: string
}

/** One entry of ots_getInternalOperations: 0 transfer, 1 self-destruct, 2 CREATE, 3 CREATE2 (Otterscan's codes). */
export interface OtsInternalOperation {
  type: 0 | 1 | 2 | 3
  from: string
  to: string
  value: string
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

/** Visit every frame, parents before children, with its depth (the top call is 0). */
function walk(frame: CallFrame, visit: (f: CallFrame, depth: number) => void, depth = 0): void {
  visit(frame, depth)
  for (const c of frame.calls ?? []) walk(c, visit, depth + 1)
}

/**
 * The flat call list Otterscan draws. Calls and self-destructs as anvil lists them; CREATE and CREATE2 frames
 * are listed too, as Erigon's ots_traceTransaction does (anvil leaves them out).
 */
export function otsTraceEntries(root: CallFrame): OtsTraceEntry[] {
  const out: OtsTraceEntry[] = []
  walk(root, (f, depth) => {
    out.push({
      type: f.type,
      depth,
      from: f.from,
      to: f.to ?? ZERO_ADDRESS,
      // a STATICCALL carries no value; Otterscan (and anvil) still show 0x0
      value: f.value ?? '0x0',
      input: f.input,
      output: f.output ?? '0x',
    })
  })
  return out
}

/**
 * Value transfers, contract creations and self-destructs, the top call included (as anvil reports them: a
 * contract deployment is a CREATE, a call that sends value is a transfer).
 */
export function otsInternalOperations(root: CallFrame): OtsInternalOperation[] {
  const out: OtsInternalOperation[] = []
  walk(root, (f) => {
    const value = f.value ?? '0x0'
    const to = f.to ?? ZERO_ADDRESS
    if (f.type === 'SELFDESTRUCT') out.push({ type: 1, from: f.from, to, value })
    else if (f.type === 'CREATE') out.push({ type: 2, from: f.from, to, value })
    else if (f.type === 'CREATE2') out.push({ type: 3, from: f.from, to, value })
    else if (f.type === 'CALL' && BigInt(value) !== 0n) out.push({ type: 0, from: f.from, to, value })
  })
  return out
}

/** Every address a transaction touched as caller, callee or created contract (lower case). */
export function touchedAddresses(root: CallFrame): Set<string> {
  const out = new Set<string>()
  walk(root, (f) => {
    out.add(f.from.toLowerCase())
    if (f.to) out.add(f.to.toLowerCase())
  })
  return out
}

/** The CREATE/CREATE2 frame that made `address`, or undefined. */
export function creationFrame(root: CallFrame, address: string): CallFrame | undefined {
  let found: CallFrame | undefined
  const a = address.toLowerCase()
  walk(root, (f) => {
    if (!found && (f.type === 'CREATE' || f.type === 'CREATE2') && f.to?.toLowerCase() === a && !f.error) found = f
  })
  return found
}
