// Address history for ots_searchTransactionsBefore/After: which transactions of a block touched an address (as
// sender, callee at any depth, or created contract), found by tracing the block once with the callTracer and
// kept in memory by block hash. Blocks are traced on the first search that reaches them, so the first search
// of a long chain costs one trace per block with transactions (docs/explorer.md states the chain length this
// suits). Keys are block hashes: a reorganised chain simply reads other entries.
import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import type { Chain } from '../chain/chain.ts'
import type { CallFrame } from '../chain/trace.ts'
import { traceBlock } from '../chain/trace.ts'
import { touchedAddresses } from './ots-trace.ts'

/** Blocks whose traced address sets are kept (oldest dropped first). */
export const ADDRESS_CACHE_BLOCKS = 50_000

interface TxAddresses {
  txHash: string
  addresses: Set<string>
}

/** A page of address history: transaction hashes, newest first, and whether it is the first/last page. */
export interface SearchPage {
  hashes: string[]
  firstPage: boolean
  lastPage: boolean
}

/** Address sets of traced blocks, by block hash. */
export class AddressSearch {
  private readonly blocks = new Map<string, TxAddresses[]>()

  constructor(private readonly chain: Chain) {}

  /** The transactions of `block` that touched each address, in block order. */
  async blockAddresses(block: Block): Promise<TxAddresses[]> {
    if (block.transactions.length === 0) return []
    const key = bytesToHex(block.hash())
    const hit = this.blocks.get(key)
    if (hit) return hit
    const traces = await traceBlock(this.chain, block, { tracer: 'callTracer' })
    const entry = traces.map((t) => ({ txHash: t.txHash, addresses: touchedAddresses(t.result as CallFrame) }))
    this.blocks.set(key, entry)
    if (this.blocks.size > ADDRESS_CACHE_BLOCKS) {
      const oldest = this.blocks.keys().next().value
      if (oldest !== undefined) this.blocks.delete(oldest)
    }
    return entry
  }

  /** Hashes of the transactions in block `n` that touched `address`, last transaction first (anvil's order). */
  private async matches(n: bigint, address: string): Promise<string[]> {
    const block = await this.chain.getBlockByNumber(n)
    if (!block) return []
    const txs = await this.blockAddresses(block)
    return txs
      .filter((t) => t.addresses.has(address))
      .map((t) => t.txHash)
      .reverse()
  }

  /**
   * Transactions touching `address` in blocks before `blockNumber` (0: from the head), newest first. Whole
   * blocks are taken until at least `pageSize` transactions are found, so a page may hold more (Otterscan's
   * rule: a block is never split across pages). Paging flags as anvil sets them.
   */
  async before(address: string, blockNumber: bigint, pageSize: number): Promise<SearchPage> {
    const a = address.toLowerCase()
    const best = this.chain.head.header.number
    const from = blockNumber === 0n || blockNumber - 1n > best ? best : blockNumber - 1n
    const firstPage = from >= best
    let lastPage = false
    const hashes: string[] = []
    for (let n = from; n >= 1n; n--) {
      if (hashes.length >= pageSize) break
      hashes.push(...(await this.matches(n, a)))
      if (n === 1n) lastPage = true
    }
    return { hashes, firstPage, lastPage }
  }

  /** Transactions touching `address` in blocks after `blockNumber` (0: from block 1), newest first. */
  async after(address: string, blockNumber: bigint, pageSize: number): Promise<SearchPage> {
    const a = address.toLowerCase()
    const best = this.chain.head.header.number
    const from = blockNumber === 0n ? 1n : blockNumber + 1n
    let firstPage = from >= best
    let lastPage = false
    const hashes: string[] = []
    for (let n = from; n <= best; n++) {
      if (n === 1n) lastPage = true
      if (hashes.length >= pageSize) break
      hashes.push(...(await this.matches(n, a)))
      if (n === best) firstPage = true
    }
    hashes.reverse()
    return { hashes, firstPage, lastPage }
  }
}
