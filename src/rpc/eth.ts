import type { Block } from '@ethereumjs/block'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import { bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { canonicalBlock } from '../chain/block-memo.ts'
import { throwOnFailure } from '../chain/calls.ts'
import { taggedBlock } from '../chain/forkchoice.ts'
import type { LatticeNode } from '../chain/node.ts'
import { effectiveTip } from '../chain/txpool.ts'
import type { BlockRef } from './codec.ts'
import {
  address,
  blockRef,
  bool,
  callRequest,
  data,
  formatBlock,
  formatReceipts,
  formatTx,
  hash,
  hexOf,
  paramList,
  q,
  quantity,
  stateOverrides,
} from './codec.ts'
import { invalidParams, RpcCode, RpcError } from './errors.ts'
import type { FilterManager } from './filters.ts'
import { blockLogs, logCriteria, rangeLogs } from './filters.ts'
import type { Handlers } from './types.ts'

/** Largest raw transaction accepted (docs/rpc.md). */
export const MAX_RAW_TX_BYTES = 1024 * 1024

/** The suggested priority fee on the devnet (1 gwei, as anvil suggests). */
const SUGGESTED_TIP = 1_000_000_000n

/** eth_* methods. */
export function ethMethods(node: LatticeNode, filters: FilterManager, opts: { devnet: boolean }): Handlers {
  const chain = node.chain

  async function resolve(ref: BlockRef): Promise<Block | undefined> {
    if ('tag' in ref) {
      if (ref.tag === 'safe' || ref.tag === 'finalized') return taggedBlock(chain, ref.tag)
      return ref.tag === 'earliest' ? chain.getBlockByNumber(0n) : chain.head
    }
    // decoded once per head (block-memo.ts): a past-block eth_call read and decoded its block on every request
    if ('number' in ref) return canonicalBlock(chain, ref.number)
    const block = await chain.getBlockByHash(ref.hash)
    if (block && ref.requireCanonical && !(await chain.isCanonical(block))) {
      throw new RpcError(RpcCode.server, `hash ${bytesToHex(ref.hash)} is not currently canonical`)
    }
    return block
  }

  async function resolveOrThrow(ref: BlockRef): Promise<Block> {
    const b = await resolve(ref)
    if (!b) throw new RpcError(RpcCode.server, 'header not found')
    return b
  }

  /** Read state at a block: the live state (under the lock) for the head, a read-only copy otherwise. */
  async function withState<T>(ref: BlockRef, fn: (sm: MerkleStateManager) => Promise<T>): Promise<T> {
    const block = await resolveOrThrow(ref)
    if (block === chain.head) return chain.exclusive(() => fn(chain.stateManager))
    return fn(await chain.stateAt(block))
  }

  return {
    eth_chainId: async () => q(chain.chainId),
    eth_syncing: async () => false,
    eth_blockNumber: async () => q(chain.head.header.number),
    eth_accounts: async () => (opts.devnet ? node.devAccounts.map((a) => a.address.toString()) : []),
    eth_coinbase: async () => '0x0000000000000000000000000000000000000000',
    eth_mining: async () => node.automine,
    eth_hashrate: async () => '0x0',
    eth_protocolVersion: async () => '0x44',

    eth_getBalance: async (p) => {
      const [a, b] = paramList(p, 'eth_getBalance', 1, 2)
      const addr = address(a, 'address')
      return withState(blockRef(b, 'block'), async (sm) => q((await sm.getAccount(addr))?.balance ?? 0n))
    },
    eth_getTransactionCount: async (p) => {
      const [a, b] = paramList(p, 'eth_getTransactionCount', 1, 2)
      const addr = address(a, 'address')
      const ref = blockRef(b, 'block')
      const n = await withState(ref, async (sm) => (await sm.getAccount(addr))?.nonce ?? 0n)
      if ('tag' in ref && ref.tag === 'pending') return q(node.pool.nextNonce(addr.toString(), n))
      return q(n)
    },
    eth_getCode: async (p) => {
      const [a, b] = paramList(p, 'eth_getCode', 1, 2)
      const addr = address(a, 'address')
      return withState(blockRef(b, 'block'), async (sm) => bytesToHex(await sm.getCode(addr)))
    },
    eth_getStorageAt: async (p) => {
      const [a, k, b] = paramList(p, 'eth_getStorageAt', 2, 3)
      const addr = address(a, 'address')
      const key = storageSlot(k)
      return withState(blockRef(b, 'block'), async (sm) =>
        bytesToHex(setLengthLeft(await sm.getStorage(addr, key), 32)),
      )
    },

    eth_gasPrice: async () => q(node.nextBaseFee() + SUGGESTED_TIP),
    eth_maxPriorityFeePerGas: async () => q(SUGGESTED_TIP),
    eth_blobBaseFee: async () => q(chain.head.header.calcNextBlobGasPrice(chain.common)),
    eth_feeHistory: async (p) => {
      const [c, newest, pct] = paramList(p, 'eth_feeHistory', 2, 3)
      const count = typeof c === 'number' && Number.isSafeInteger(c) ? BigInt(c) : quantity(c, 'blockCount')
      if (count < 1n) return { oldestBlock: '0x0', baseFeePerGas: [], gasUsedRatio: [] }
      const percentiles = pct === undefined || pct === null ? undefined : percentileList(pct)
      const last = await resolveOrThrow(blockRef(newest, 'newestBlock'))
      const n = count > 1024n ? 1024n : count
      const first = last.header.number - n + 1n < 0n ? 0n : last.header.number - n + 1n
      const baseFees: string[] = []
      const ratios: number[] = []
      const blobFees: string[] = []
      const blobRatios: number[] = []
      const rewards: string[][] = []
      const maxBlobGas = chain.common.param('maxBlobGasPerBlock')
      for (let i = first; i <= last.header.number; i++) {
        const b = (await chain.getBlockByNumber(i))!
        baseFees.push(q(b.header.baseFeePerGas ?? 0n))
        ratios.push(Number(b.header.gasUsed) / Number(b.header.gasLimit))
        blobFees.push(q(b.header.excessBlobGas === undefined ? 0n : b.header.getBlobGasPrice()))
        blobRatios.push(Number(b.header.blobGasUsed ?? 0n) / Number(maxBlobGas))
        if (percentiles) rewards.push(await blockRewards(b, percentiles))
      }
      baseFees.push(q(last.header.calcNextBaseFee()))
      blobFees.push(q(last.header.excessBlobGas === undefined ? 0n : last.header.calcNextBlobGasPrice(chain.common)))
      return {
        oldestBlock: q(first),
        baseFeePerGas: baseFees,
        gasUsedRatio: ratios,
        baseFeePerBlobGas: blobFees,
        blobGasUsedRatio: blobRatios,
        ...(percentiles ? { reward: rewards } : {}),
      }
    },

    eth_call: async (p, ctx) => {
      const [c, b, o] = paramList(p, 'eth_call', 1, 4)
      const req = callRequest(c, 'transaction')
      const block = await resolveOrThrow(blockRef(b, 'block'))
      // the limits come down with the request, not through a context (src/rpc/limits.ts PASSED_LIMITS)
      const res = await node.execute(req, block, stateOverrides(o, 'state overrides'), { limits: ctx?.callLimits })
      throwOnFailure(res)
      return hexOf(res.execResult.returnValue)
    },
    eth_estimateGas: async (p) => {
      const [c, b, o] = paramList(p, 'eth_estimateGas', 1, 3)
      const req = callRequest(c, 'transaction')
      const block = await resolveOrThrow(blockRef(b, 'block'))
      return q(await node.estimateGas(req, block, stateOverrides(o, 'state overrides')))
    },
    eth_createAccessList: async (p) => {
      const [c, b] = paramList(p, 'eth_createAccessList', 1, 2)
      const req = callRequest(c, 'transaction')
      const block = await resolveOrThrow(blockRef(b, 'block'))
      const r = await node.createAccessList(req, block)
      return { accessList: r.accessList, gasUsed: q(r.gasUsed), ...(r.error ? { error: r.error } : {}) }
    },

    eth_sendRawTransaction: async (p) => {
      const [raw] = paramList(p, 'eth_sendRawTransaction', 1, 1)
      const bytes = data(raw, 'transaction')
      // geth caps transactions at 128 KiB; inference calls carry tensors, so Lattice allows 1 MiB (blob
      // transactions in network form carry their sidecars within the same bound)
      if (bytes.length > MAX_RAW_TX_BYTES) throw new RpcError(RpcCode.server, 'oversized data: transaction too large')
      return bytesToHex(await node.sendRawTransaction(bytes))
    },
    eth_sendTransaction: async (p) => {
      if (!opts.devnet)
        throw new RpcError(RpcCode.methodNotFound, 'the method eth_sendTransaction does not exist/is not available')
      const [c] = paramList(p, 'eth_sendTransaction', 1, 1)
      const req = callRequest(c, 'transaction')
      if (!req.from) throw invalidParams('invalid argument transaction: missing "from"')
      return bytesToHex(await node.sendTransaction(req))
    },

    eth_getTransactionByHash: async (p) => {
      const [h] = paramList(p, 'eth_getTransactionByHash', 1, 1)
      const txHash = hash(h, 'hash')
      const loc = await chain.getTransaction(txHash)
      if (loc) return formatTx(loc.tx, loc.block, loc.index)
      const pending = node.pool.get(bytesToHex(txHash))
      return pending ? formatTx(pending) : null
    },
    eth_getTransactionByBlockHashAndIndex: async (p) => {
      const [h, i] = paramList(p, 'eth_getTransactionByBlockHashAndIndex', 2, 2)
      const block = await chain.getBlockByHash(hash(h, 'block hash'))
      const idx = Number(quantity(i, 'index'))
      return block?.transactions[idx] ? formatTx(block.transactions[idx], block, idx) : null
    },
    eth_getTransactionByBlockNumberAndIndex: async (p) => {
      const [b, i] = paramList(p, 'eth_getTransactionByBlockNumberAndIndex', 2, 2)
      const block = await resolve(blockRef(b, 'block'))
      const idx = Number(quantity(i, 'index'))
      return block?.transactions[idx] ? formatTx(block.transactions[idx], block, idx) : null
    },
    eth_getRawTransactionByHash: async (p) => {
      const [h] = paramList(p, 'eth_getRawTransactionByHash', 1, 1)
      const loc = await chain.getTransaction(hash(h, 'hash'))
      return loc ? bytesToHex(loc.tx.serialize()) : null
    },
    eth_getTransactionReceipt: async (p) => {
      const [h] = paramList(p, 'eth_getTransactionReceipt', 1, 1)
      const loc = await chain.getTransaction(hash(h, 'hash'))
      if (!loc) return null
      const receipts = await chain.getReceipts(loc.block.hash())
      return formatReceipts(loc.block, receipts)[loc.index] ?? null
    },
    eth_getBlockReceipts: async (p) => {
      const [b] = paramList(p, 'eth_getBlockReceipts', 1, 1)
      const block = await resolve(blockRef(b, 'block'))
      if (!block) return null
      return formatReceipts(block, await chain.getReceipts(block.hash()))
    },
    eth_getBlockByNumber: async (p) => {
      const [b, full] = paramList(p, 'eth_getBlockByNumber', 1, 2)
      const block = await resolve(blockRef(b, 'block number'))
      return block ? formatBlock(block, full === undefined ? false : bool(full, 'hydrated')) : null
    },
    eth_getBlockByHash: async (p) => {
      const [h, full] = paramList(p, 'eth_getBlockByHash', 1, 2)
      const block = await chain.getBlockByHash(hash(h, 'block hash'))
      return block ? formatBlock(block, full === undefined ? false : bool(full, 'hydrated')) : null
    },
    eth_getBlockTransactionCountByHash: async (p) => {
      const [h] = paramList(p, 'eth_getBlockTransactionCountByHash', 1, 1)
      const block = await chain.getBlockByHash(hash(h, 'block hash'))
      return block ? q(block.transactions.length) : null
    },
    eth_getBlockTransactionCountByNumber: async (p) => {
      const [b] = paramList(p, 'eth_getBlockTransactionCountByNumber', 1, 1)
      const block = await resolve(blockRef(b, 'block'))
      return block ? q(block.transactions.length) : null
    },
    eth_getUncleCountByBlockHash: async (p) => {
      const [h] = paramList(p, 'eth_getUncleCountByBlockHash', 1, 1)
      const block = await chain.getBlockByHash(hash(h, 'block hash'))
      return block ? q(block.uncleHeaders.length) : null
    },
    eth_getUncleCountByBlockNumber: async (p) => {
      const [b] = paramList(p, 'eth_getUncleCountByBlockNumber', 1, 1)
      const block = await resolve(blockRef(b, 'block'))
      return block ? q(block.uncleHeaders.length) : null
    },

    eth_getLogs: async (p) => {
      const [f] = paramList(p, 'eth_getLogs', 1, 1)
      const o = filterObject(f)
      const criteria = logCriteria(o, 'filter', data)
      if (o.blockHash !== undefined) {
        if (o.fromBlock !== undefined || o.toBlock !== undefined) {
          throw invalidParams('invalid argument filter: cannot specify both blockHash and fromBlock/toBlock')
        }
        const block = await chain.getBlockByHash(hash(o.blockHash, 'filter.blockHash'))
        if (!block) throw new RpcError(RpcCode.server, 'unknown block')
        return blockLogs(chain, block, criteria)
      }
      const { from, to } = await range(o)
      return rangeLogs(chain, from, to, criteria)
    },
    eth_newFilter: async (p) => {
      const [f] = paramList(p, 'eth_newFilter', 1, 1)
      const o = filterObject(f)
      const criteria = logCriteria(o, 'filter', data)
      const tag = (v: unknown, n: string) => {
        const r = blockRef(v, n)
        return 'number' in r ? r.number : 'latest'
      }
      return filters.install({
        kind: 'logs',
        criteria,
        fromBlock: tag(o.fromBlock, 'fromBlock'),
        toBlock: tag(o.toBlock, 'toBlock'),
      })
    },
    eth_newBlockFilter: async (p) => {
      paramList(p, 'eth_newBlockFilter', 0, 0)
      return filters.install({ kind: 'blocks' })
    },
    eth_newPendingTransactionFilter: async (p) => {
      paramList(p, 'eth_newPendingTransactionFilter', 0, 1)
      return filters.install({ kind: 'pending' })
    },
    eth_getFilterChanges: async (p) => {
      const [id] = paramList(p, 'eth_getFilterChanges', 1, 1)
      return filters.poll(filterId(id))
    },
    eth_getFilterLogs: async (p) => {
      const [id] = paramList(p, 'eth_getFilterLogs', 1, 1)
      const f = filters.get(filterId(id))
      if (f.kind !== 'logs' || !f.criteria) throw new RpcError(RpcCode.server, 'filter not found')
      const head = chain.head.header.number
      const from = f.fromBlock === undefined || f.fromBlock === 'latest' ? head : f.fromBlock
      const to = f.toBlock === undefined || f.toBlock === 'latest' ? head : f.toBlock
      return rangeLogs(chain, from, to, f.criteria)
    },
    eth_uninstallFilter: async (p) => {
      const [id] = paramList(p, 'eth_uninstallFilter', 1, 1)
      return filters.uninstall(filterId(id))
    },
  }

  async function range(o: Record<string, unknown>): Promise<{ from: bigint; to: bigint }> {
    const head = chain.head.header.number
    const num = async (v: unknown, n: string) => {
      if (v === undefined || v === null) return head
      const r = blockRef(v, n)
      if ('tag' in r) {
        if (r.tag === 'safe' || r.tag === 'finalized') return (await taggedBlock(chain, r.tag)).header.number
        return r.tag === 'earliest' ? 0n : head
      }
      if ('number' in r) return r.number
      return (await resolveOrThrow(r)).header.number
    }
    const from = await num(o.fromBlock, 'filter.fromBlock')
    const to = await num(o.toBlock, 'filter.toBlock')
    if (from > to) throw invalidParams('invalid block range params')
    if (to > head) throw invalidParams('block range extends beyond current head block')
    return { from, to }
  }

  async function blockRewards(b: Block, percentiles: number[]): Promise<string[]> {
    if (b.transactions.length === 0) return percentiles.map(() => '0x0')
    const receipts = await chain.getReceipts(b.hash())
    const baseFee = b.header.baseFeePerGas ?? 0n
    const items = b.transactions
      .map((tx, i) => ({ tip: effectiveTip(tx, baseFee), gas: receipts[i]?.gasUsed ?? 0n }))
      .sort((x, y) => (x.tip < y.tip ? -1 : x.tip > y.tip ? 1 : 0))
    const total = items.reduce((s, x) => s + x.gas, 0n)
    return percentiles.map((pc) => {
      const threshold = (Number(total) * pc) / 100
      let sum = 0
      for (const it of items) {
        sum += Number(it.gas)
        if (sum >= threshold) return q(it.tip)
      }
      return q(items[items.length - 1].tip)
    })
  }
}

function filterObject(f: unknown): Record<string, unknown> {
  if (typeof f !== 'object' || f === null || Array.isArray(f))
    throw invalidParams('invalid argument filter: expected an object')
  return f as Record<string, unknown>
}

function filterId(id: unknown): string {
  if (typeof id !== 'string' || !/^0x[0-9a-fA-F]+$/.test(id))
    throw invalidParams('invalid argument filter id: expected a hex id')
  return `0x${BigInt(id).toString(16)}`
}

function percentileList(v: unknown): number[] {
  if (!Array.isArray(v) || v.length > 100)
    throw invalidParams('invalid argument rewardPercentiles: expected an array of at most 100 numbers')
  let prev = -1
  return v.map((x, i) => {
    if (typeof x !== 'number' || x < 0 || x > 100 || x < prev) {
      throw invalidParams(
        `invalid argument rewardPercentiles[${i}]: percentiles must be increasing numbers in [0, 100]`,
      )
    }
    prev = x
    return x
  })
}

/** A storage slot: geth accepts any 0x-hex of up to 32 bytes, odd length included, left-padded. */
function storageSlot(v: unknown): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) {
    throw invalidParams(`invalid argument storage slot: expected hex of at most 32 bytes, got ${JSON.stringify(v)}`)
  }
  return hexToBytes(`0x${v.slice(2).padStart(64, '0')}`)
}
