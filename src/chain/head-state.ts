// Devnet state edits (anvil_setBalance, hardhat_setCode, anvil_loadState, ...) change the head's state without a
// block, as anvil and Hardhat do: the head keeps its header while its state root moves on. Every reader of "the
// state at the head" (read-only copies, pooled call VMs, sandboxes, rollbacks) asks here for the root to use, so
// the edit is seen everywhere and the next mined block builds on it (its header then carries the new root).
import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'

interface Pending {
  /** The head the edit was made on: a new head (mined, reset, reverted) makes the entry stale. */
  head: Block
  root: Uint8Array
}

const pendingByChain = new WeakMap<object, Pending>()

/** The state root to read `block` at: the edited root when `block` is the head it was made on, else the header's. */
export function stateRootOf(chain: { head: Block }, block: Block): Uint8Array {
  const p = pendingByChain.get(chain)
  return p && p.head === block && block === chain.head ? p.root : block.header.stateRoot
}

/** Record that the head's state now has root `root` (call inside the chain lock, after flushing). */
export function setHeadStateRoot(chain: { head: Block }, root: Uint8Array): void {
  pendingByChain.set(chain, { head: chain.head, root })
}

/** A key that changes whenever the state at `block` changes (pooled call VMs are keyed by it). */
export function stateKeyOf(chain: { head: Block }, block: Block): string {
  const root = stateRootOf(chain, block)
  return root === block.header.stateRoot ? bytesToHex(block.hash()) : `${bytesToHex(block.hash())}:${bytesToHex(root)}`
}
