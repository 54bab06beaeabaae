import { DevState } from '../chain/dev-state.ts'
import type { LatticeNode } from '../chain/node.ts'
import { checkBlockTimestamp, MAX_BLOCK_TIMESTAMP } from '../chain/timestamp-limit.ts'
import { anvilMethods } from './anvil.ts'
import { paramList, q, quantity } from './codec.ts'
import { invalidParams } from './errors.ts'
import { hardhatMethods } from './hardhat.ts'
import { signingMethods } from './signing.ts'
import type { Handlers } from './types.ts'

const wallSeconds = () => BigInt(Math.floor(Date.now() / 1000))

/**
 * evm_* development methods (Hardhat/anvil compatible), with the anvil_* and hardhat_* families (anvil.ts,
 * hardhat.ts) and node-side signing for the dev accounts (signing.ts); devnet only.
 */
export function devMethods(node: LatticeNode, clientVersion = 'Lattice'): Handlers {
  const num = (v: unknown, name: string) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : quantity(v, name)
  const dev = new DevState(node)
  return {
    ...anvilMethods(node, dev, clientVersion),
    ...hardhatMethods(node, dev, clientVersion),
    ...signingMethods(node),
    evm_mine: async (p) => {
      const [arg] = paramList(p, 'evm_mine', 0, 1)
      let blocks = 1n
      let timestamp: bigint | undefined
      if (arg !== undefined && arg !== null) {
        if (typeof arg === 'object') {
          const o = arg as { blocks?: unknown; timestamp?: unknown }
          if (o.blocks !== undefined) blocks = num(o.blocks, 'blocks')
          if (o.timestamp !== undefined) timestamp = num(o.timestamp, 'timestamp')
        } else timestamp = num(arg, 'timestamp')
      }
      if (blocks < 1n || blocks > 10_000n) throw invalidParams('invalid argument blocks: must be between 1 and 10000')
      // every block of the run needs a timestamp after the previous one, all within the limit
      if (timestamp !== undefined) checkBlockTimestamp(timestamp + blocks - 1n, 'timestamp')
      for (let i = 0n; i < blocks; i++) await node.mine(i === 0n ? timestamp : undefined)
      return '0x0'
    },
    evm_snapshot: async (p) => {
      paramList(p, 'evm_snapshot', 0, 0)
      return q(await node.snapshot())
    },
    evm_revert: async (p) => {
      const [id] = paramList(p, 'evm_revert', 1, 1)
      return node.revert(num(id, 'snapshot id'))
    },
    evm_increaseTime: async (p) => {
      const [s] = paramList(p, 'evm_increaseTime', 1, 1)
      const seconds = num(s, 'seconds')
      // increaseTime(0) reads the clock's offset without moving it; refuse before changing anything
      const offset = node.increaseTime(0n)
      if (wallSeconds() + offset + seconds > MAX_BLOCK_TIMESTAMP) {
        throw invalidParams(
          `invalid argument seconds: ${seconds} would move the clock past the largest block timestamp (${MAX_BLOCK_TIMESTAMP})`,
        )
      }
      return Number(node.increaseTime(seconds))
    },
    evm_setNextBlockTimestamp: async (p) => {
      const [t] = paramList(p, 'evm_setNextBlockTimestamp', 1, 1)
      const ts = num(t, 'timestamp')
      checkBlockTimestamp(ts, 'timestamp')
      await node.setNextBlockTimestamp(ts)
      return null
    },
    evm_setAutomine: async (p) => {
      const [on] = paramList(p, 'evm_setAutomine', 1, 1)
      if (typeof on !== 'boolean') throw invalidParams('invalid argument enabled: expected a boolean')
      node.automine = on
      return true
    },
    evm_setIntervalMining: async (p) => {
      const [ms] = paramList(p, 'evm_setIntervalMining', 1, 1)
      const n = Number(num(ms, 'interval'))
      if (n === 0) node.stopIntervalMining()
      else node.startIntervalMining(n / 1000)
      return true
    },
  }
}
