// An off-chain index of ModelRegistry, kept in the meta sublevel next to receipts. Which models changed in a
// block comes from the registry's events; their fields are then read from the registry's storage at that
// block. Each block's writes keep an undo entry, so evm_revert and imports onto another branch roll back.
import type { Block } from '@ethereumjs/block'
import type { StateManagerInterface } from '@ethereumjs/common'
import {
  bigIntToBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  createAddressFromString,
  equalsBytes,
  hexToBytes,
  setLengthLeft,
} from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { Interface, type InterfaceAbi } from 'ethers'
import { MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import { modelSlot, readRegistryEntry } from '../precompiles/registry.ts'
import { REGISTRY_LAYOUT } from '../precompiles/registry-layout.ts'
import { contractAbi } from './abi.ts'
import type { Chain, ChainListener } from './chain.ts'
import type { StoredReceipt } from './receipts.ts'

/** A model as the index keeps it (JSON-safe: amounts are decimal strings). */
export interface IndexedModel {
  modelId: string
  owner: string
  name: string
  version: string
  cid: string
  digest: string
  commitment: string
  format: string
  io: string
  status: 'active' | 'deprecated'
  policy: 'public' | 'private' | 'allowlist'
  /** Wei per inference through ModelRegistry.infer, decimal. */
  price: string
  /** Paid inferences counted by the registry (ModelRegistry.infer), decimal. */
  inferences: string
  /** Precompile runs of this model inside mined transactions (from the blocks' inference records). */
  runs: number
  /** The version this one replaced, or null. */
  previous: string | null
  /** The version that replaced this one, or null. */
  next: string | null
  allowlist: string[]
  /** Registration order, from 0. */
  index: number
  registeredBlock: number
  registeredTx: string
  updatedBlock: number
}

/** Filters and pagination of {@link RegistryIndex.list}. */
export interface ModelQuery {
  owner?: string
  name?: string
  status?: IndexedModel['status']
  policy?: IndexedModel['policy']
  /** Models to skip after filtering (default 0). */
  offset?: number
  /** Most models returned (default 100). */
  limit?: number
}

const REGISTRY_EVENTS = new Interface(contractAbi('ModelRegistry') as InterfaceAbi)

const POLICIES = ['public', 'private', 'allowlist'] as const
const REGISTRY = createAddressFromString(MODEL_REGISTRY_ADDRESS)
const REGISTRY_BYTES = REGISTRY.bytes

// Keys live under 'R/' in the meta sublevel (receipts and lookups use single-byte prefixes r, t, i).
const K = {
  head: 'R/head',
  count: 'R/count',
  model: (id: string) => `R/m/${id}`,
  order: (i: number) => `R/o/${String(i).padStart(12, '0')}`,
  undo: (n: bigint) => `R/u/${n.toString().padStart(20, '0')}`,
}
const STR = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const
/** How long a reader waits for the index to reach a head the chain has already adopted. */
const CATCH_UP_MS = 2_000

interface Head {
  number: string
  hash: string
}
interface Undo {
  hash: string
  ops: [string, string | null][]
}

/** The registry index of one chain. Open it before the node starts mining, then add it to `chain.listeners`. */
export class RegistryIndex implements ChainListener {
  private constructor(private readonly chain: Chain) {}

  /** Open the index and bring it to the chain's head (rolling back blocks that are no longer canonical). */
  static async open(chain: Chain): Promise<RegistryIndex> {
    const index = new RegistryIndex(chain)
    await chain.exclusive(() => index.sync())
    return index
  }

  private async raw(key: string): Promise<string | undefined> {
    return (await this.chain.dbs.meta.get(key, STR as never)) ?? undefined
  }

  /** The block the index reflects. */
  async head(): Promise<{ number: bigint; hash: string }> {
    const h = await this.raw(K.head)
    if (!h) return { number: 0n, hash: bytesToHex(this.chain.blockchain.genesisBlock.hash()) }
    const p = JSON.parse(h) as Head
    return { number: BigInt(p.number), hash: p.hash }
  }

  /**
   * Wait (at most `CATCH_UP_MS`) until the index reflects the chain's head. The chain makes a block its head
   * before it tells the listeners, so without this a reader that saw block N (eth_blockNumber, a receipt) could
   * read the index of N-1 — a client polling for registry changes would then miss a change for good.
   */
  private async caughtUp(): Promise<void> {
    const deadline = Date.now() + CATCH_UP_MS
    for (;;) {
      const h = await this.head()
      if (h.hash === bytesToHex(this.chain.head.hash())) return
      const left = deadline - Date.now()
      // indexing failed (lastError) or is slow: answer from what the index has
      if (left <= 0) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  private waiters: (() => void)[] = []

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }

  /** One model, or undefined (as of the chain's head: see `caughtUp`). */
  async get(modelId: string): Promise<IndexedModel | undefined> {
    await this.caughtUp()
    return this.stored(modelId)
  }

  private async stored(modelId: string): Promise<IndexedModel | undefined> {
    const v = await this.raw(K.model(modelId.toLowerCase()))
    return v ? (JSON.parse(v) as IndexedModel) : undefined
  }

  /** Models in registration order, filtered, with the total that matched (as of the chain's head). */
  async list(q: ModelQuery = {}): Promise<{ models: IndexedModel[]; total: number }> {
    await this.caughtUp()
    const offset = q.offset ?? 0
    const limit = q.limit ?? 100
    const owner = q.owner?.toLowerCase()
    const models: IndexedModel[] = []
    let total = 0
    const it = this.chain.dbs.meta.iterator({ gte: 'R/o/', lt: 'R/o0', ...STR } as never)
    try {
      for await (const [, id] of it as AsyncIterable<[string, string]>) {
        const m = await this.stored(id)
        if (!m) continue
        if (owner && m.owner !== owner) continue
        if (q.name !== undefined && m.name !== q.name) continue
        if (q.status && m.status !== q.status) continue
        if (q.policy && m.policy !== q.policy) continue
        if (total >= offset && models.length < limit) models.push(m)
        total++
      }
    } finally {
      await (it as { close(): Promise<void> }).close()
    }
    return { models, total }
  }

  /** Chain listener: index a block that just became the head. */
  async onBlockCommitted(block: Block, receipts: StoredReceipt[]): Promise<void> {
    try {
      const head = await this.head()
      if (
        block.header.number !== head.number + 1n ||
        !equalsBytes(block.header.parentHash, hexToBytes(head.hash as `0x${string}`))
      ) {
        // the index is behind or on another branch: resynchronise from the chain
        await this.sync()
        return
      }
      await this.apply(block, receipts)
    } catch (err) {
      // never fail the block for the index's sake; the next block or restart resynchronises
      this.lastError = err as Error
    } finally {
      this.wake()
    }
  }

  /** Chain listener: the head moved back (evm_revert); undo the blocks past it. */
  async onReset(): Promise<void> {
    try {
      await this.sync()
    } catch (err) {
      this.lastError = err as Error
    } finally {
      this.wake()
    }
  }

  /** The last error indexing ran into (the index catches up on the next block or restart). */
  lastError?: Error

  /** Roll back blocks that are not canonical any more, then index every block up to the chain's head. */
  async sync(): Promise<void> {
    const chainHead = this.chain.head.header.number
    for (;;) {
      const h = await this.head()
      if (h.number === 0n) break
      const canon = h.number <= chainHead ? await this.chain.getBlockByNumber(h.number) : undefined
      if (canon && bytesToHex(canon.hash()) === h.hash) break
      await this.undo(h.number)
    }
    for (let n = (await this.head()).number + 1n; n <= chainHead; n++) {
      const block = await this.chain.getBlockByNumber(n)
      if (!block) break
      await this.apply(block, await this.chain.getReceipts(block.hash()))
    }
  }

  private async undo(n: bigint): Promise<void> {
    const raw = await this.raw(K.undo(n))
    const ops: { type: 'put' | 'del'; key: string; value?: string }[] = []
    if (raw) {
      const u = JSON.parse(raw) as Undo
      for (const [key, prev] of u.ops.reverse())
        ops.push(prev === null ? { type: 'del', key } : { type: 'put', key, value: prev })
    }
    const parent = n - 1n
    const parentBlock = parent === 0n ? this.chain.blockchain.genesisBlock : undefined
    const prevRaw = parent === 0n ? undefined : await this.raw(K.undo(parent))
    const parentHash = parentBlock ? bytesToHex(parentBlock.hash()) : prevRaw ? (JSON.parse(prevRaw) as Undo).hash : ''
    ops.push({ type: 'del', key: K.undo(n) })
    ops.push({ type: 'put', key: K.head, value: JSON.stringify({ number: parent.toString(), hash: parentHash }) })
    await this.chain.dbs.meta.batch(ops.map((o) => ({ ...o, ...STR })) as never)
  }

  /** Index one block: its registry events and its inference records, in one atomic batch with its undo entry. */
  private async apply(block: Block, receipts: StoredReceipt[]): Promise<void> {
    const writes = new Map<string, string>()
    const before = new Map<string, string | null>()
    const read = async (key: string): Promise<string | undefined> => {
      if (writes.has(key)) return writes.get(key)
      const v = await this.raw(key)
      if (!before.has(key)) before.set(key, v ?? null)
      return v
    }
    const write = async (key: string, value: string): Promise<void> => {
      await read(key)
      writes.set(key, value)
    }
    const number = Number(block.header.number)
    let sm: StateManagerInterface | undefined
    const state = async () => {
      sm ??= await this.chain.stateAt(block)
      return sm
    }
    const load = async (id: string): Promise<IndexedModel | undefined> => {
      const v = await read(K.model(id))
      return v ? (JSON.parse(v) as IndexedModel) : undefined
    }
    const save = (m: IndexedModel) => write(K.model(m.modelId), JSON.stringify({ ...m, updatedBlock: number }))
    const refresh = async (m: IndexedModel): Promise<IndexedModel> => {
      const s = await readModelState(await state(), m.modelId)
      return { ...m, ...s }
    }

    for (const [txIndex, r] of receipts.entries()) {
      if (r.status !== 1) continue
      const txHash = bytesToHex(block.transactions[txIndex].hash())
      for (const [addr, topics, data] of r.logs) {
        if (!equalsBytes(addr, REGISTRY_BYTES)) continue
        let ev: ReturnType<Interface['parseLog']>
        try {
          ev = REGISTRY_EVENTS.parseLog({ topics: topics.map((t) => bytesToHex(t)), data: bytesToHex(data) })
        } catch {
          continue
        }
        if (!ev) continue
        const id = (ev.args[0] as string).toLowerCase()
        if (ev.name === 'ModelRegistered') {
          const count = Number((await read(K.count)) ?? '0')
          const s = await readModelState(await state(), id)
          const m: IndexedModel = {
            modelId: id,
            ...s,
            runs: 0,
            next: null,
            allowlist: [],
            index: count,
            registeredBlock: number,
            registeredTx: txHash,
            updatedBlock: number,
          }
          await save(m)
          await write(K.order(count), id)
          await write(K.count, String(count + 1))
          continue
        }
        const m = await load(id)
        if (!m) continue
        if (ev.name === 'ModelUpdated') {
          await save({ ...(await refresh(m)), next: (ev.args[1] as string).toLowerCase() })
        } else if (ev.name === 'AllowlistChanged') {
          const account = (ev.args[1] as string).toLowerCase()
          const list = m.allowlist.filter((a) => a !== account)
          if (ev.args[2]) list.push(account)
          await save({ ...m, allowlist: list.sort() })
        } else {
          await save(await refresh(m))
        }
      }
    }
    // usage: every precompile run inside this block's transactions
    const records = await this.chain.getInferenceRecords(block.hash())
    const runs = new Map<string, number>()
    for (const rec of records) runs.set(rec.modelId.toLowerCase(), (runs.get(rec.modelId.toLowerCase()) ?? 0) + 1)
    for (const [id, n] of runs) {
      const m = await load(id)
      // a free run through ModelRegistry.infer bumps its counter without an event, so the counter is read again;
      // only the counter: every other field changes with an event, handled above (the whole entry was ~15
      // storage reads, 7-15 ms of every inference block under load)
      if (m) await save({ ...m, inferences: await readInferences(await state(), id), runs: m.runs + n })
    }

    const undo: Undo = { hash: bytesToHex(block.hash()), ops: [...before.entries()] }
    const ops = [
      ...[...writes.entries()].map(([key, value]) => ({ type: 'put' as const, key, value })),
      { type: 'put' as const, key: K.undo(block.header.number), value: JSON.stringify(undo) },
      {
        type: 'put' as const,
        key: K.head,
        value: JSON.stringify({ number: block.header.number.toString(), hash: undo.hash }),
      },
    ]
    await this.chain.dbs.meta.batch(ops.map((o) => ({ ...o, ...STR })) as never)
  }
}

/** ModelRegistry's paid-inference counter of a model, decimal. */
async function readInferences(sm: StateManagerInterface, modelId: string): Promise<string> {
  const slot = modelSlot(modelId) + REGISTRY_LAYOUT.model.inferences
  return bytesToBigInt(await storageWord(sm, slot)).toString()
}

/** The fields of a model entry read from ModelRegistry's storage (exported for tests). */
export async function readModelState(
  sm: StateManagerInterface,
  modelId: string,
): Promise<
  Pick<
    IndexedModel,
    | 'owner'
    | 'name'
    | 'version'
    | 'cid'
    | 'digest'
    | 'commitment'
    | 'format'
    | 'io'
    | 'status'
    | 'policy'
    | 'price'
    | 'inferences'
    | 'previous'
  >
> {
  const e = await readRegistryEntry(sm, modelId)
  const f = REGISTRY_LAYOUT.model
  const base = modelSlot(modelId)
  const word = async (off: bigint) => bytesToHex(await storageWord(sm, base + off))
  const previous = await word(f.previous)
  return {
    owner: e.owner.toLowerCase(),
    name: await storageString(sm, base + f.name),
    version: await storageString(sm, base + f.version),
    cid: e.cid,
    digest: e.digest,
    commitment: await word(f.commitment),
    format: await storageString(sm, base + f.format),
    io: await storageString(sm, base + f.io),
    status: e.status === 2 ? 'deprecated' : 'active',
    policy: POLICIES[e.policy] ?? 'private',
    price: e.price.toString(),
    inferences: await readInferences(sm, modelId),
    previous: /^0x0+$/.test(previous) ? null : previous,
  }
}

const slotBytes = (n: bigint) => setLengthLeft(bigIntToBytes(n), 32)

async function storageWord(sm: StateManagerInterface, slot: bigint): Promise<Uint8Array> {
  return setLengthLeft(await sm.getStorage(REGISTRY, slotBytes(slot)), 32)
}

/** A Solidity `string` in the registry's storage (short strings inline, long ones at keccak(slot)). */
async function storageString(sm: StateManagerInterface, slot: bigint): Promise<string> {
  const head = await storageWord(sm, slot)
  if ((head[31] & 1) === 0) return new TextDecoder().decode(head.subarray(0, head[31] >> 1))
  const len = Number((bytesToBigInt(head) - 1n) / 2n)
  if (len > 64 * 1024) return ''
  const start = bytesToBigInt(keccak256(slotBytes(slot)))
  const parts: Uint8Array[] = []
  for (let i = 0; i * 32 < len; i++) parts.push(await storageWord(sm, start + BigInt(i)))
  return new TextDecoder().decode(concatBytes(...parts).subarray(0, len))
}
