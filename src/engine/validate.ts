// Which Engine API method version serves which fork (execution-apis src/engine/{paris,shanghai,cancun,prague,osaka}.md):
// a version called for a timestamp outside its forks answers -38005 Unsupported fork.
import type { Common } from '@ethereumjs/common'
import { UnsupportedForkError } from './errors.ts'

/** The forks the Engine API distinguishes, oldest first. */
export const ENGINE_FORKS = ['paris', 'shanghai', 'cancun', 'prague', 'osaka'] as const
export type EngineFork = (typeof ENGINE_FORKS)[number]

/** The Engine API fork of a block at `number`/`timestamp` (forks after Osaka, like the BPO ones, count as Osaka). */
export function engineForkAt(common: Common, number: bigint, timestamp: bigint): EngineFork {
  const hf = common.getHardforkBy({ blockNumber: number, timestamp })
  for (let i = ENGINE_FORKS.length - 1; i >= 0; i--) {
    if (common.hardforkGteHardfork(hf, ENGINE_FORKS[i])) return ENGINE_FORKS[i]
  }
  return 'paris'
}

const rank = (f: EngineFork) => ENGINE_FORKS.indexOf(f)

/** Forks each method version serves, as [first, last]. */
const RANGES: Record<string, [EngineFork, EngineFork]> = {
  engine_newPayloadV1: ['paris', 'paris'],
  engine_newPayloadV2: ['paris', 'shanghai'],
  engine_newPayloadV3: ['cancun', 'cancun'],
  // Osaka kept newPayloadV4 (it only added getPayloadV5)
  engine_newPayloadV4: ['prague', 'osaka'],
  engine_getPayloadV1: ['paris', 'paris'],
  engine_getPayloadV2: ['paris', 'shanghai'],
  engine_getPayloadV3: ['cancun', 'cancun'],
  engine_getPayloadV4: ['prague', 'prague'],
  engine_getPayloadV5: ['osaka', 'osaka'],
  engine_forkchoiceUpdatedV1: ['paris', 'paris'],
  engine_forkchoiceUpdatedV2: ['paris', 'shanghai'],
  // Prague and Osaka kept forkchoiceUpdatedV3
  engine_forkchoiceUpdatedV3: ['cancun', 'osaka'],
}

/** Throw -38005 unless `method` serves `fork`. */
export function assertForkServed(method: string, fork: EngineFork, timestamp: bigint): void {
  const range = RANGES[method]
  if (!range) return
  const [first, last] = range
  if (rank(fork) < rank(first) || rank(fork) > rank(last)) {
    const serves = first === last ? first : `${first} to ${last}`
    throw new UnsupportedForkError(method, `serves ${serves}; timestamp ${timestamp} is in ${fork}`)
  }
}
