import type { LatticeNode } from '../chain/node.ts'
import { paramList, q, quantity } from './codec.ts'
import { invalidParams } from './errors.ts'
import type { Handlers } from './types.ts'

/** evm_* development methods (Hardhat/anvil compatible), devnet only. */
export function devMethods(node: LatticeNode): Handlers {
  const num = (v: unknown, name: string) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : quantity(v, name)
  return {
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
      return Number(node.increaseTime(num(s, 'seconds')))
    },
    evm_setNextBlockTimestamp: async (p) => {
      const [t] = paramList(p, 'evm_setNextBlockTimestamp', 1, 1)
      await node.setNextBlockTimestamp(num(t, 'timestamp'))
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
