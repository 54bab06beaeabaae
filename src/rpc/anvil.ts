// anvil_* development methods with anvil's semantics (foundry crates/anvil/src/eth/api.rs); hardhat.ts serves
// the same handlers under Hardhat's names. Devnet only: state edits go through dev-state.ts under the chain lock.
import { gunzipSync, gzipSync } from 'node:zlib'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { setNextBlockBaseFee } from '../chain/dev-header.ts'
import type { DevState } from '../chain/dev-state.ts'
import type { LatticeNode } from '../chain/node.ts'
import { address, bool, data, hash, paramList } from './codec.ts'
import { invalidParams } from './errors.ts'
import type { Handler, Handlers } from './types.ts'

/** The most blocks one anvil_mine/hardhat_mine mines (each is a real block with its own state root). */
export const MAX_MINE_BLOCKS = 10_000n

/** A quantity as anvil reads a U256: hex (leading zeros allowed) or a JSON number. */
export function looseQuantity(v: unknown, name: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(v)) return BigInt(v)
  throw invalidParams(`invalid argument ${name}: expected a hex quantity like "0x1a", got ${JSON.stringify(v)}`)
}

/** The shared handlers; `hardhat.ts` maps Hardhat's names onto them. */
export interface DevHandlers {
  setBalance: Handler
  setCode: Handler
  setNonce: Handler
  setStorageAt: Handler
  impersonate: Handler
  stopImpersonating: Handler
  mine: (hardhat: boolean) => Handler
  getAutomine: Handler
  dropTransaction: Handler
  setCoinbase: Handler
  reset: Handler
  setBlockTimestampInterval: Handler
  removeBlockTimestampInterval: Handler
  setNextBlockBaseFeePerGas: Handler
}

/** Handlers shared by the anvil_ and hardhat_ families. */
export function devHandlers(node: LatticeNode, dev: DevState): DevHandlers {
  return {
    setBalance: async (p) => {
      const [a, v] = paramList(p, 'setBalance', 2, 2)
      await dev.setBalance(address(a, 'address'), looseQuantity(v, 'balance'))
      return null
    },
    setCode: async (p) => {
      const [a, c] = paramList(p, 'setCode', 2, 2)
      await dev.setCode(address(a, 'address'), data(c, 'code'))
      return null
    },
    setNonce: async (p) => {
      const [a, n] = paramList(p, 'setNonce', 2, 2)
      const nonce = looseQuantity(n, 'nonce')
      if (nonce >= 1n << 64n) throw invalidParams('invalid argument nonce: more than 64 bits')
      await dev.setNonce(address(a, 'address'), nonce)
      return null
    },
    setStorageAt: async (p) => {
      const [a, s, v] = paramList(p, 'setStorageAt', 3, 3)
      const slot = looseQuantity(s, 'slot')
      const value = data(v, 'value')
      if (value.length > 32) throw invalidParams('invalid argument value: more than 32 bytes')
      await dev.setStorageAt(address(a, 'address'), hexToBytes(`0x${slot.toString(16).padStart(64, '0')}`), value)
      return true
    },
    impersonate: async (p) => {
      const [a] = paramList(p, 'impersonateAccount', 1, 1)
      dev.impersonate(address(a, 'address'))
      return null
    },
    stopImpersonating: async (p) => {
      const [a] = paramList(p, 'stopImpersonatingAccount', 1, 1)
      dev.stopImpersonating(address(a, 'address'))
      return null
    },
    mine: (hardhat) => async (p) => {
      const [n, i] = paramList(p, 'mine', 0, 2)
      const blocks = n === undefined || n === null ? 1n : looseQuantity(n, 'blocks')
      // Hardhat spaces blocks 1 s apart by default; anvil moves the clock only when told
      const interval = i === undefined || i === null ? (hardhat ? 1n : undefined) : looseQuantity(i, 'interval')
      if (blocks < 1n || blocks > MAX_MINE_BLOCKS) {
        throw invalidParams(`invalid argument blocks: must be between 1 and ${MAX_MINE_BLOCKS}`)
      }
      for (let k = 0n; k < blocks; k++) {
        if (interval === undefined) await node.mine()
        else if (hardhat) await node.mine(k === 0n ? undefined : node.chain.head.header.timestamp + interval)
        else {
          // anvil: jump the clock forward by `interval` before each block
          node.increaseTime(interval)
          await node.mine()
        }
      }
      return null
    },
    getAutomine: async (p) => {
      paramList(p, 'getAutomine', 0, 0)
      return node.automine
    },
    dropTransaction: async (p) => {
      const [h] = paramList(p, 'dropTransaction', 1, 1)
      const txHash = bytesToHex(hash(h, 'transaction hash'))
      if (!node.pool.has(txHash)) return null
      node.pool.remove(txHash)
      return txHash
    },
    setCoinbase: async (p) => {
      const [a] = paramList(p, 'setCoinbase', 1, 1)
      node.miner.coinbase = address(a, 'address')
      return null
    },
    reset: async (p) => {
      const [opts] = paramList(p, 'reset', 0, 1)
      if (opts !== undefined && opts !== null && Object.keys(opts as object).length > 0) {
        throw invalidParams('forking is not supported: a Lattice devnet resets to its own genesis only')
      }
      await dev.reset()
      return null
    },
    setBlockTimestampInterval: async (p) => {
      const [s] = paramList(p, 'setBlockTimestampInterval', 1, 1)
      node.clock.interval = looseQuantity(s, 'seconds')
      return null
    },
    setNextBlockBaseFeePerGas: async (p) => {
      const [f] = paramList(p, 'setNextBlockBaseFeePerGas', 1, 1)
      setNextBlockBaseFee(node.chain, looseQuantity(f, 'baseFeePerGas'))
      return null
    },
    removeBlockTimestampInterval: async (p) => {
      paramList(p, 'removeBlockTimestampInterval', 0, 0)
      const had = node.clock.interval !== undefined
      node.clock.interval = undefined
      return had
    },
  }
}

/** anvil_* methods. */
export function anvilMethods(node: LatticeNode, dev: DevState, clientVersion: string): Handlers {
  const h = devHandlers(node, dev)
  return {
    anvil_setBalance: h.setBalance,
    anvil_setCode: h.setCode,
    anvil_setNonce: h.setNonce,
    anvil_setStorageAt: h.setStorageAt,
    anvil_impersonateAccount: h.impersonate,
    anvil_stopImpersonatingAccount: h.stopImpersonating,
    anvil_autoImpersonateAccount: async (p) => {
      const [on] = paramList(p, 'anvil_autoImpersonateAccount', 1, 1)
      dev.autoImpersonate = bool(on, 'enabled')
      return null
    },
    anvil_mine: h.mine(false),
    anvil_getAutomine: h.getAutomine,
    anvil_setAutomine: async (p) => {
      const [on] = paramList(p, 'anvil_setAutomine', 1, 1)
      node.automine = bool(on, 'enabled')
      return null
    },
    anvil_setIntervalMining: async (p) => {
      const [s] = paramList(p, 'anvil_setIntervalMining', 1, 1)
      const seconds = Number(looseQuantity(s, 'seconds'))
      if (seconds === 0) node.stopIntervalMining()
      else node.startIntervalMining(seconds)
      return null
    },
    anvil_dropTransaction: h.dropTransaction,
    anvil_dropAllTransactions: async (p) => {
      paramList(p, 'anvil_dropAllTransactions', 0, 0)
      node.pool.clear()
      return null
    },
    anvil_setCoinbase: h.setCoinbase,
    anvil_setBlockTimestampInterval: h.setBlockTimestampInterval,
    anvil_removeBlockTimestampInterval: h.removeBlockTimestampInterval,
    anvil_setNextBlockBaseFeePerGas: h.setNextBlockBaseFeePerGas,
    anvil_setLoggingEnabled: async (p) => {
      paramList(p, 'anvil_setLoggingEnabled', 1, 1)
      return null
    },
    anvil_reset: h.reset,
    anvil_nodeInfo: async (p) => {
      paramList(p, 'anvil_nodeInfo', 0, 0)
      const head = node.chain.head.header
      return {
        currentBlockNumber: Number(head.number),
        currentBlockTimestamp: Number(head.timestamp),
        currentBlockHash: bytesToHex(node.chain.head.hash()),
        hardFork: node.chain.common.hardfork(),
        transactionOrder: 'fees',
        environment: {
          baseFee: node.nextBaseFee().toString(),
          chainId: Number(node.chain.chainId),
          gasLimit: head.gasLimit.toString(),
          gasPrice: node.nextBaseFee().toString(),
        },
        forkConfig: { forkUrl: null, forkBlockNumber: null, forkRetryBackoff: null },
        network: 'lattice',
        clientVersion,
      }
    },
    anvil_metadata: async (p) => metadata(node, dev, clientVersion, p, 'anvil_metadata'),
    anvil_dumpState: async (p) => {
      paramList(p, 'anvil_dumpState', 0, 1)
      const lines: string[] = []
      for await (const line of await dev.dump()) lines.push(line)
      return bytesToHex(gzipSync(lines.join('\n')))
    },
    anvil_loadState: async (p) => {
      const [s] = paramList(p, 'anvil_loadState', 1, 1)
      const bytes = data(s, 'state')
      // anvil sends gzip; a plain JSON dump is accepted as anvil accepts it
      let text: string
      try {
        text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8')
      } catch {
        throw invalidParams('invalid argument state: not a gzip stream')
      }
      await dev.load(text.split('\n'))
      return true
    },
  }
}

/** hardhat_metadata / anvil_metadata: what Hardhat's tooling reads to identify a development node. */
export function metadata(node: LatticeNode, dev: DevState, clientVersion: string, p: unknown, method: string): unknown {
  paramList(p, method, 0, 0)
  return {
    clientVersion,
    chainId: Number(node.chain.chainId),
    // new at every start and every reset, as Hardhat's: tools that cache per instance start over
    instanceId: dev.instanceId,
    latestBlockNumber: Number(node.chain.head.header.number),
    latestBlockHash: bytesToHex(node.chain.head.hash()),
  }
}
