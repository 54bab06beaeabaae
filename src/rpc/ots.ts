// Otterscan's ots_* namespace at API level 8, with the shapes anvil returns, and erigon_getHeaderByNumber, which
// Otterscan calls at start (docs/explorer.md). Traces come from the callTracer (src/chain/trace.ts); address
// history from ots-search.ts.
import type { Block } from '@ethereumjs/block'
import type { Address } from '@ethereumjs/util'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Chain } from '../chain/chain.ts'
import { senderOf } from '../chain/impersonation.ts'
import type { LatticeNode } from '../chain/node.ts'
import type { StoredReceipt } from '../chain/receipts.ts'
import type { CallFrame } from '../chain/trace.ts'
import { traceBlock, traceTransaction } from '../chain/trace.ts'
import { address, blockRef, formatBlock, formatReceipts, formatTx, hash, paramList, q, quantity } from './codec.ts'
import { invalidParams, RpcCode, RpcError } from './errors.ts'
import { resolveBlock } from './eth-extra.ts'
import { AddressSearch } from './ots-search.ts'
import { creationFrame, otsInternalOperations, otsTraceEntries } from './ots-trace.ts'
import type { Handlers } from './types.ts'

/** The Otterscan API level served (Otterscan 2.x requires 8). */
export const OTS_API_LEVEL = 8

/** Most transactions one ots_getBlockTransactions / ots_search* page may ask for. */
export const OTS_MAX_PAGE_SIZE = 1000

/** A block number as Otterscan sends it: a JSON number, a hex quantity, or a tag. */
function blockNumberParam(v: unknown, name: string): bigint | 'latest' | 'earliest' {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw invalidParams(`invalid argument ${name}: not a block number: ${v}`)
    return BigInt(v)
  }
  if (v === 'latest' || v === 'pending' || v === 'safe' || v === 'finalized' || v === undefined || v === null)
    return 'latest'
  if (v === 'earliest') return 'earliest'
  const ref = blockRef(v, name)
  if ('number' in ref) return ref.number
  throw invalidParams(`invalid argument ${name}: expected a block number, got ${JSON.stringify(v)}`)
}

/** A page number or size: a JSON number or hex quantity. */
function count(v: unknown, name: string, max: number): number {
  const n = typeof v === 'number' ? v : Number(quantity(v, name))
  if (!Number.isSafeInteger(n) || n < 0 || n > max)
    throw invalidParams(`invalid argument ${name}: expected an integer from 0 to ${max}, got ${JSON.stringify(v)}`)
  return n
}

function notFound(what: string): RpcError {
  return new RpcError(RpcCode.server, `${what} not found`)
}

/** The ots_* and erigon_getHeaderByNumber handlers. */
export function otsMethods(node: LatticeNode): Handlers {
  const chain = node.chain
  const search = new AddressSearch(chain)

  async function blockAt(v: unknown, name: string): Promise<Block | undefined> {
    const n = blockNumberParam(v, name)
    if (n === 'latest') return chain.head
    return chain.getBlockByNumber(n === 'earliest' ? 0n : n)
  }

  async function rootFrame(txHash: Uint8Array): Promise<CallFrame> {
    return (await traceTransaction(chain, txHash, { tracer: 'callTracer' })) as CallFrame
  }

  /** An eth receipt with the block's timestamp, as Otterscan's receipts carry it. */
  function otsReceipts(block: Block, receipts: StoredReceipt[]): Record<string, unknown>[] {
    return formatReceipts(block, receipts).map((r) => ({ ...r, timestamp: q(block.header.timestamp) }))
  }

  async function details(block: Block): Promise<Record<string, unknown>> {
    const receipts = await chain.getReceipts(block.hash())
    const totalFees = receipts.reduce((sum, r) => sum + r.gasUsed * r.effectiveGasPrice, 0n)
    const { transactions, ...rest } = formatBlock(block, false)
    return {
      block: { ...rest, totalDifficulty: '0x0', transactionCount: (transactions as unknown[]).length },
      // a proof-of-stake chain without block rewards: nothing is issued
      issuance: { blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' },
      totalFees: q(totalFees),
    }
  }

  async function withReceipts(hashes: string[], firstPage: boolean, lastPage: boolean) {
    const txs: Record<string, unknown>[] = []
    const receipts: Record<string, unknown>[] = []
    for (const h of hashes) {
      const loc = await chain.getTransaction(hash(h, 'txHash'))
      if (!loc) throw notFound(`transaction ${h}`)
      txs.push(formatTx(loc.tx, loc.block, loc.index))
      receipts.push(otsReceipts(loc.block, await chain.getReceipts(loc.block.hash()))[loc.index])
    }
    return { txs, receipts, firstPage, lastPage }
  }

  /** An account's nonce after `block`, or undefined when that block's state is gone. */
  async function nonceAt(who: Address, block: Block): Promise<bigint | undefined> {
    try {
      return (await (await chain.stateAt(block)).getAccount(who))?.nonce ?? 0n
    } catch {
      return undefined
    }
  }

  /** Whether `who` has code after `block` (undefined when that block's state is gone). */
  async function codeAt(who: Address, block: Block): Promise<boolean | undefined> {
    try {
      return (await (await chain.stateAt(block)).getCode(who)).length > 0
    } catch {
      return undefined
    }
  }

  /**
   * The first block after which `pred` holds, by bisection over past states (a nonce only grows; code, once
   * deployed, stays unless destroyed). Undefined when it does not hold at the head or a state is missing.
   */
  async function firstBlockWhere(pred: (b: Block) => Promise<boolean | undefined>): Promise<Block | undefined> {
    let hi = chain.head.header.number
    const head = await chain.getBlockByNumber(hi)
    if (!head || (await pred(head)) !== true) return undefined
    let lo = 0n
    const genesis = await chain.getBlockByNumber(0n)
    if (genesis && (await pred(genesis)) === true) return genesis
    // invariant: pred(lo) is false, pred(hi) is true
    while (hi - lo > 1n) {
      const mid = (lo + hi) / 2n
      const b = await chain.getBlockByNumber(mid)
      const v = b ? await pred(b) : undefined
      if (v === undefined) return undefined
      if (v) hi = mid
      else lo = mid
    }
    return chain.getBlockByNumber(hi)
  }

  return {
    erigon_getHeaderByNumber: async (p) => {
      const [b] = paramList(p, 'erigon_getHeaderByNumber', 1, 1)
      const block = await blockAt(b, 'argument 0')
      return block ? formatBlock(block, false) : null
    },

    ots_getApiLevel: async (p) => {
      paramList(p, 'ots_getApiLevel', 0, 0)
      return OTS_API_LEVEL
    },

    ots_hasCode: async (p) => {
      const [a, b] = paramList(p, 'ots_hasCode', 1, 2)
      const who = address(a, 'argument 0')
      const block = await (typeof b === 'string' && b.length === 66
        ? resolveBlock(chain, blockRef(b, 'argument 1'))
        : blockAt(b, 'argument 1'))
      if (!block) throw notFound('block')
      const has = await codeAt(who, block)
      if (has === undefined)
        throw new RpcError(RpcCode.server, `state of block ${block.header.number} is not available`)
      return has
    },

    ots_getInternalOperations: async (p) => {
      const [h] = paramList(p, 'ots_getInternalOperations', 1, 1)
      const txHash = hash(h, 'argument 0')
      if (!(await chain.getTransaction(txHash))) throw notFound(`transaction ${bytesToHex(txHash)}`)
      return otsInternalOperations(await rootFrame(txHash))
    },

    ots_getTransactionError: async (p) => {
      const [h] = paramList(p, 'ots_getTransactionError', 1, 1)
      const txHash = hash(h, 'argument 0')
      const loc = await chain.getTransaction(txHash)
      if (!loc) return '0x'
      const receipt = (await chain.getReceipts(loc.block.hash()))[loc.index]
      if (!receipt || receipt.status === 1) return '0x'
      return (await rootFrame(txHash)).output ?? '0x'
    },

    ots_traceTransaction: async (p) => {
      const [h] = paramList(p, 'ots_traceTransaction', 1, 1)
      const txHash = hash(h, 'argument 0')
      // anvil answers an unknown transaction with an empty trace
      if (!(await chain.getTransaction(txHash))) return []
      return otsTraceEntries(await rootFrame(txHash))
    },

    ots_getBlockDetails: async (p) => {
      const [b] = paramList(p, 'ots_getBlockDetails', 1, 1)
      const block = await blockAt(b, 'argument 0')
      if (!block) throw notFound('block')
      return details(block)
    },

    ots_getBlockDetailsByHash: async (p) => {
      const [h] = paramList(p, 'ots_getBlockDetailsByHash', 1, 1)
      const block = await chain.getBlockByHash(hash(h, 'argument 0'))
      if (!block) throw notFound('block')
      return details(block)
    },

    ots_getBlockTransactions: async (p) => {
      const [b, pg, sz] = paramList(p, 'ots_getBlockTransactions', 3, 3)
      const block = await blockAt(b, 'argument 0')
      if (!block) throw notFound('block')
      const page = count(pg, 'argument 1', Number.MAX_SAFE_INTEGER)
      const size = count(sz, 'argument 2', OTS_MAX_PAGE_SIZE)
      const start = page * size
      const full = formatBlock(block, true)
      const all = full.transactions as unknown[]
      const receipts = otsReceipts(block, await chain.getReceipts(block.hash())).slice(start, start + size)
      return {
        fullblock: {
          ...full,
          totalDifficulty: '0x0',
          transactions: all.slice(start, start + size),
          transactionCount: all.slice(start, start + size).length,
        },
        receipts,
      }
    },

    ots_searchTransactionsBefore: async (p) => {
      const [a, b, sz] = paramList(p, 'ots_searchTransactionsBefore', 3, 3)
      const who = address(a, 'argument 0').toString()
      const n = blockNumberParam(b, 'argument 1')
      const page = await search.before(
        who,
        typeof n === 'bigint' ? n : 0n,
        Math.max(1, count(sz, 'argument 2', OTS_MAX_PAGE_SIZE)),
      )
      return withReceipts(page.hashes, page.firstPage, page.lastPage)
    },

    ots_searchTransactionsAfter: async (p) => {
      const [a, b, sz] = paramList(p, 'ots_searchTransactionsAfter', 3, 3)
      const who = address(a, 'argument 0').toString()
      const n = blockNumberParam(b, 'argument 1')
      const page = await search.after(
        who,
        typeof n === 'bigint' ? n : 0n,
        Math.max(1, count(sz, 'argument 2', OTS_MAX_PAGE_SIZE)),
      )
      return withReceipts(page.hashes, page.firstPage, page.lastPage)
    },

    ots_getTransactionBySenderAndNonce: async (p) => {
      const [a, n] = paramList(p, 'ots_getTransactionBySenderAndNonce', 2, 2)
      const who = address(a, 'argument 0')
      const nonce = typeof n === 'number' ? BigInt(n) : quantity(n, 'argument 1')
      const now = await nonceAt(who, chain.head)
      if (now !== undefined && now <= nonce) return null
      // the block after which the sender's nonce first passed `nonce` holds that transaction
      const block = await firstBlockWhere(async (b) => {
        const v = await nonceAt(who, b)
        return v === undefined ? undefined : v > nonce
      })
      if (block) return senderTx(block, who, nonce) ?? null
      return scanForSenderTx(chain, who, nonce)
    },

    ots_getContractCreator: async (p) => {
      const [a] = paramList(p, 'ots_getContractCreator', 1, 1)
      const who = address(a, 'argument 0')
      const block = await firstBlockWhere((b) => codeAt(who, b))
      if (!block || block.header.number === 0n) return null
      for (const t of await traceBlock(chain, block, { tracer: 'callTracer' })) {
        const frame = creationFrame(t.result as CallFrame, who.toString())
        if (frame) return { hash: t.txHash, creator: frame.from }
      }
      return null
    },
  }
}

function senderTx(block: Block, who: Address, nonce: bigint): string | undefined {
  const tx = block.transactions.find((t) => t.nonce === nonce && equalsBytes(senderOf(t).bytes, who.bytes))
  return tx ? bytesToHex(tx.hash()) : undefined
}

/** The slow path when past states are missing: every block from the head down. */
async function scanForSenderTx(chain: Chain, who: Address, nonce: bigint): Promise<string | null> {
  for (let n = chain.head.header.number; n >= 1n; n--) {
    const block = await chain.getBlockByNumber(n)
    const found = block ? senderTx(block, who, nonce) : undefined
    if (found) return found
  }
  return null
}
