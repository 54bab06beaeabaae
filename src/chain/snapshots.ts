import type { TypedTransaction } from '@ethereumjs/tx'
import { equalsBytes } from '@ethereumjs/util'
import type { Chain } from './chain.ts'
import type { BlockClock, ClockState } from './clock.ts'
import { setHeadStateRoot, stateRootOf } from './head-state.ts'
import type { TxPool } from './txpool.ts'

interface Snapshot {
  head: bigint
  /** The head's state root, devnet edits included (head-state.ts). */
  root: Uint8Array
  clock: ClockState
  pool: TypedTransaction[]
}

/** Options for {@link Snapshots}. */
export interface SnapshotsOpts {
  chain: Chain
  pool: TxPool
  clock: BlockClock
  /** Called inside the chain lock after a revert moved the head (the node's 'reorg' event). */
  onRevert: () => void
}

/** evm_snapshot / evm_revert: head, clock and pool, restored together. */
export class Snapshots {
  private readonly byId = new Map<bigint, Snapshot>()
  private lastId = 0n

  constructor(private readonly opts: SnapshotsOpts) {}

  /** Remember head, clock and pool; returns the snapshot id. */
  async take(): Promise<bigint> {
    const { chain, pool, clock } = this.opts
    return chain.exclusive(async () => {
      this.lastId++
      const txs = pool.senders().flatMap((s) => {
        const { pending, queued } = pool.content(() => 0n)
        return [...(pending.get(s) ?? []), ...(queued.get(s) ?? [])]
      })
      const root = stateRootOf(chain, chain.head)
      this.byId.set(this.lastId, { head: chain.head.header.number, root, clock: clock.save(), pool: txs })
      return this.lastId
    })
  }

  /** Back to a snapshot; it and every later snapshot are used up. Returns false if unknown. */
  async revert(id: bigint): Promise<boolean> {
    const { chain, pool, clock } = this.opts
    return chain.exclusive(async () => {
      const snap = this.byId.get(id)
      if (!snap) return false
      for (const k of [...this.byId.keys()]) if (k >= id) this.byId.delete(k)
      await chain.resetHead(snap.head)
      // state edits made after the snapshot (anvil_setBalance, ...) at the same height are undone too
      if (!equalsBytes(stateRootOf(chain, chain.head), snap.root)) {
        await chain.stateManager.setStateRoot(snap.root)
        setHeadStateRoot(chain, snap.root)
      }
      clock.restore(snap.clock)
      pool.clear()
      for (const tx of snap.pool) {
        const sender = tx.getSenderAddress()
        const acct = await chain.stateManager.getAccount(sender)
        try {
          pool.add(tx, sender.toString(), { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n })
        } catch {
          // no longer valid at the restored head
        }
      }
      this.opts.onRevert()
      return true
    })
  }
}
