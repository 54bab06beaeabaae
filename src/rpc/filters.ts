import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'
import { Bloom } from '@ethereumjs/vm'
import type { Chain, MinedBlock } from '../chain/chain.ts'
import type { LatticeNode } from '../chain/node.ts'
import { formatLogs } from './codec.ts'
import { invalidParams, RpcCode, RpcError } from './errors.ts'

/** A decoded log filter: addresses (any of) and topics (per position: any of, or null = any). */
export interface LogCriteria {
  addresses: Uint8Array[]
  topics: (Uint8Array[] | null)[]
}

/** Most blocks one eth_getLogs may scan. */
export const MAX_LOG_RANGE = 10_000n
/** Most logs one eth_getLogs may return. */
export const MAX_LOGS = 10_000

type RpcLog = Record<string, unknown>

function matches(log: [Uint8Array, Uint8Array[], Uint8Array], c: LogCriteria): boolean {
  const [addr, topics] = log
  if (c.addresses.length > 0 && !c.addresses.some((a) => eq(a, addr))) return false
  for (let i = 0; i < c.topics.length; i++) {
    const want = c.topics[i]
    if (want === null || want.length === 0) continue
    const t = topics[i]
    if (!t || !want.some((w) => eq(w, t))) return false
  }
  return true
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function bloomMayMatch(block: Block, c: LogCriteria): boolean {
  const bloom = new Bloom(block.header.logsBloom)
  if (c.addresses.length > 0 && !c.addresses.some((a) => bloom.check(a))) return false
  for (const want of c.topics) {
    if (want === null || want.length === 0) continue
    if (!want.some((t) => bloom.check(t))) return false
  }
  return true
}

/** Matching logs of one block, in RPC form. */
export async function blockLogs(chain: Chain, block: Block, c: LogCriteria): Promise<RpcLog[]> {
  if (block.transactions.length === 0 || !bloomMayMatch(block, c)) return []
  const receipts = await chain.getReceipts(block.hash())
  const out: RpcLog[] = []
  let logIndex = 0
  receipts.forEach((r, i) => {
    const formatted = formatLogs(r, block, i, logIndex)
    r.logs.forEach((log, j) => {
      if (matches(log, c)) out.push(formatted[j])
    })
    logIndex += r.logs.length
  })
  return out
}

/** Logs in [from, to] of the canonical chain. */
export async function rangeLogs(chain: Chain, from: bigint, to: bigint, c: LogCriteria): Promise<RpcLog[]> {
  if (to - from + 1n > MAX_LOG_RANGE) {
    throw new RpcError(RpcCode.limitExceeded, `query exceeds the block range limit of ${MAX_LOG_RANGE}`)
  }
  const out: RpcLog[] = []
  for (let n = from; n <= to; n++) {
    const block = await chain.getBlockByNumber(n)
    if (!block) break
    out.push(...(await blockLogs(chain, block, c)))
    if (out.length > MAX_LOGS) throw new RpcError(RpcCode.limitExceeded, `query returned more than ${MAX_LOGS} results`)
  }
  return out
}

interface Filter {
  kind: 'logs' | 'blocks' | 'pending'
  criteria?: LogCriteria
  fromBlock?: bigint | 'latest'
  toBlock?: bigint | 'latest'
  /** collected since the last poll */
  buffer: unknown[]
  lastPoll: number
}

/** Filters installed with eth_new*Filter, expiring after `timeoutMs` without a poll (geth: 5 min). */
export class FilterManager {
  private readonly filters = new Map<string, Filter>()
  private next = 1n
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly node: LatticeNode,
    private readonly timeoutMs = 5 * 60_000,
  ) {
    node.on('block', this.onBlock)
    node.on('pendingTransaction', this.onPending)
    this.timer = setInterval(() => this.expire(), 30_000)
    this.timer.unref()
  }

  close(): void {
    clearInterval(this.timer)
    this.node.off('block', this.onBlock)
    this.node.off('pendingTransaction', this.onPending)
  }

  private readonly onBlock = async ({ block }: MinedBlock) => {
    for (const f of this.filters.values()) {
      if (f.kind === 'blocks') f.buffer.push(bytesToHex(block.hash()))
      else if (f.kind === 'logs' && f.criteria) {
        const n = block.header.number
        if (typeof f.fromBlock === 'bigint' && n < f.fromBlock) continue
        if (typeof f.toBlock === 'bigint' && n > f.toBlock) continue
        // resolve first: `f.buffer.push(await ...)` would capture the array a concurrent poll swaps out
        const logs = await blockLogs(this.node.chain, block, f.criteria)
        f.buffer.push(...logs)
      }
    }
  }

  private readonly onPending = (hash: string) => {
    for (const f of this.filters.values()) if (f.kind === 'pending') f.buffer.push(hash)
  }

  private expire(): void {
    const now = Date.now()
    for (const [id, f] of this.filters) if (now - f.lastPoll > this.timeoutMs) this.filters.delete(id)
  }

  install(f: Omit<Filter, 'buffer' | 'lastPoll'>): string {
    if (this.filters.size >= 10_000) throw new RpcError(RpcCode.limitExceeded, 'too many filters installed')
    const id = `0x${(this.next++).toString(16)}`
    this.filters.set(id, { ...f, buffer: [], lastPoll: Date.now() })
    return id
  }

  get(id: string): Filter {
    const f = this.filters.get(id)
    if (!f) throw new RpcError(RpcCode.server, 'filter not found')
    return f
  }

  /** Changes since the last poll. */
  poll(id: string): unknown[] {
    const f = this.get(id)
    f.lastPoll = Date.now()
    const out = f.buffer
    f.buffer = []
    return out
  }

  uninstall(id: string): boolean {
    return this.filters.delete(id)
  }
}

/** Decode an eth_getLogs / eth_newFilter object's address and topics. */
export function logCriteria(
  o: Record<string, unknown>,
  name: string,
  data: (v: unknown, n: string, size?: number) => Uint8Array,
): LogCriteria {
  const addresses: Uint8Array[] = []
  if (o.address !== undefined && o.address !== null) {
    const list = Array.isArray(o.address) ? o.address : [o.address]
    list.forEach((a, i) => {
      addresses.push(data(a, `${name}.address[${i}]`, 20))
    })
  }
  const topics: (Uint8Array[] | null)[] = []
  if (o.topics !== undefined && o.topics !== null) {
    if (!Array.isArray(o.topics)) throw invalidParams(`invalid argument ${name}.topics: expected an array`)
    if (o.topics.length > 4) throw invalidParams(`invalid argument ${name}.topics: at most 4 topic positions`)
    o.topics.forEach((t, i) => {
      if (t === null) topics.push(null)
      else if (Array.isArray(t)) topics.push(t.map((x, j) => data(x, `${name}.topics[${i}][${j}]`, 32)))
      else topics.push([data(t, `${name}.topics[${i}]`, 32)])
    })
  }
  return { addresses, topics }
}
