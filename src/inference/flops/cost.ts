// The price of one node under a gas schedule: its FLOPs weighted by op family, the bytes it reads and writes,
// and a fixed per-node cost (docs/gas.md). Integer micro-gas throughout, so every validator gets the same gas.
import { UnsupportedOpError } from '../errors.ts'
import { opFamily, READS_WHAT_IT_WRITES } from './families.ts'
import type { GasSchedule } from './schedule.ts'
import { MICRO_GAS } from './schedule.ts'

/** A count as a bigint; refuses counts that are not finite (a shape too large to represent). */
export function toBig(x: number, op: string, node: string): bigint {
  if (!Number.isFinite(x) || x < 0) throw new UnsupportedOpError(op, node, `its cost (${x}) is not a finite count`)
  return BigInt(Math.ceil(x))
}

/** What one node did, for pricing. */
export interface NodeWork {
  op: string
  node: string
  /** The node's own FLOPs (0 for control flow: its subgraphs' nodes are priced themselves). */
  flops: number
  inBytes: number
  outBytes: number
}

/** Bytes a node moves: what it writes, plus what it reads (bounded by what it writes for copies and gathers). */
export function trafficBytes(w: NodeWork): number {
  const read = READS_WHAT_IT_WRITES.has(opFamily(w.op)) ? Math.min(w.inBytes, w.outBytes) : w.inBytes
  return read + w.outBytes
}

/** Micro-gas of one node, its subgraphs excluded. */
export function nodeCost(s: GasSchedule, w: NodeWork): bigint {
  const f = opFamily(w.op)
  let work = 0n
  if (s.perFlop[f] !== 0n) work += toBig(w.flops, w.op, w.node) * s.perFlop[f]
  if (s.perByte[f] !== 0n) work += toBig(trafficBytes(w), w.op, w.node) * s.perByte[f]
  // own keys only: op types come from the model, and a plain object has inherited ones ("constructor")
  if (Object.hasOwn(s.opPercent, w.op)) work = (work * s.opPercent[w.op] + 99n) / 100n
  return s.perNode + work
}

/** Whole gas for a micro-gas total (rounded up). */
export const wholeGas = (micro: bigint): bigint => (micro + MICRO_GAS - 1n) / MICRO_GAS
