// A bound on ethereumjs' storage cache (issue 15). Its LRU counts accounts (50,000 here, chain.ts), not slots:
// each cached account keeps a Map of every slot read or written since the account entered the cache, and a
// busy contract never leaves it, so the cache grows with the slots a contract touches for as long as the node
// runs (the soak: the EIP-4788 and EIP-2935 ring buffers and the inference verifier's ring, ~5 slots a block,
// ~350 bytes each). The head's caches are dropped when they hold more slots than the bound; they refill from
// the trie (behind the state read cache) as blocks read them again.
import type { MerkleStateManager } from '@ethereumjs/statemanager'

/** Most storage slots the head's state caches may hold before they are dropped (~70 MiB of heap). */
export const STORAGE_CACHE_SLOTS = 200_000
/** Blocks between two counts of the cached slots (a count walks every cached account). */
export const STORAGE_CACHE_CHECK_EVERY = 256n

type StorageLru = { values(): Iterable<Map<string, unknown>> }

/** Slots held by the storage cache of `sm` (0 when it has none, or an ordered-map cache). */
export function storageCacheSlots(sm: MerkleStateManager): number {
  const lru = (sm as unknown as { _caches?: { storage?: { _lruCache?: StorageLru } } })._caches?.storage?._lruCache
  let slots = 0
  if (lru) for (const m of lru.values()) slots += m.size
  return slots
}

/**
 * Drop the caches of `sm` when its storage cache holds more than `max` slots. Only between blocks: the caches
 * must hold nothing unflushed (no checkpoint open), which is so once a block is committed. True when dropped.
 */
export function boundStateCaches(sm: MerkleStateManager, max = STORAGE_CACHE_SLOTS): boolean {
  if ((sm as unknown as { _checkpointCount: number })._checkpointCount !== 0) return false
  if (storageCacheSlots(sm) <= max) return false
  sm.clearCaches()
  return true
}
