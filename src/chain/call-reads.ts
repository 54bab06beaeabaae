// Trie reads that survive a call's revert, for the pooled VMs of RPC calls (call-limits.ts `withCallVm`).
//
// Why: every call runs inside a checkpoint that is reverted, and MerkleStateManager drops what it read inside a
// checkpoint on revert (its account and storage caches restore their pre-checkpoint contents, its storage tries
// are thrown away). So each eth_call of the same view walked the account trie and the contract's storage trie
// again from the root, decoding every node on the way: ~0.3 ms of a ~2 ms call (bench/call-profile.ts --direct).
//
// The memo is content-addressed: a trie's root is the hash of its contents, so (root, key) -> value never goes
// stale, whatever the call writes (a write changes the root, and a later read is keyed by the new one), whether
// it reverts, and whichever head or past block the VM is positioned on. It is shared by the call VMs of a chain
// (a storage trie that did not change between blocks keeps its root, so its reads stay warm across heads) and
// bounded by entries and bytes. The chain's own head VM is never memoised: it writes and flushes.

import type { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { bytesToUnprefixedHex } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

/**
 * Entries kept per chain; a view call reads a handful, a busy test suite's calls a few thousand. An entry costs
 * ~400 B of heap (a ~170-character key, a small Uint8Array, the Map's slot): at most ~8 MB per chain.
 */
export const CALL_READS_MAX_ENTRIES = 20_000
/** Bytes of values kept per chain (values are accounts, ~70–110 B, and storage slots, ≤ 33 B). */
export const CALL_READS_MAX_BYTES = 4 * 1024 * 1024

/** (trie root, key prefix, key) -> the value the trie holds there (null: none). */
export class CallReads {
  private readonly values = new Map<string, Uint8Array | null>()
  private bytes = 0
  hits = 0
  misses = 0

  constructor(
    readonly maxEntries = CALL_READS_MAX_ENTRIES,
    readonly maxBytes = CALL_READS_MAX_BYTES,
  ) {}

  get size(): number {
    return this.values.size
  }

  get(key: string): Uint8Array | null | undefined {
    const v = this.values.get(key)
    if (v === undefined) this.misses++
    else this.hits++
    return v
  }

  set(key: string, value: Uint8Array | null): void {
    if (this.values.has(key)) return
    this.values.set(key, value)
    this.bytes += value?.length ?? 0
    // oldest first: Map keeps insertion order
    for (const [k, v] of this.values) {
      if (this.values.size <= this.maxEntries && this.bytes <= this.maxBytes) break
      this.values.delete(k)
      this.bytes -= v?.length ?? 0
    }
  }
}

const byChain = new WeakMap<object, CallReads>()

/** The memo shared by `chain`'s call VMs. */
export function callReadsOf(chain: object): CallReads {
  let memo = byChain.get(chain)
  if (!memo) {
    memo = new CallReads()
    byChain.set(chain, memo)
  }
  return memo
}

interface TrieInternals {
  _opts: { keyPrefix?: Uint8Array }
}

const memoised = new WeakSet<MerklePatriciaTrie>()

/** Make `trie` and every trie later copied from it (the state manager's storage tries) read through `memo`. */
export function memoiseTrie(trie: MerklePatriciaTrie, memo: CallReads): void {
  if (memoised.has(trie)) return
  memoised.add(trie)
  const get = trie.get.bind(trie)
  const prefixOf = (trie as unknown as TrieInternals)._opts.keyPrefix
  const prefix = prefixOf ? bytesToUnprefixedHex(prefixOf) : ''
  trie.get = async (key: Uint8Array, throwIfMissing?: boolean) => {
    const k = `${bytesToUnprefixedHex(trie.root())}:${prefix}:${bytesToUnprefixedHex(key)}`
    const hit = memo.get(k)
    if (hit !== undefined) return hit
    const value = await get(key, throwIfMissing)
    // a copy: the trie's value is a view into its node's bytes, which the memo would otherwise keep alive
    memo.set(k, value === null ? null : value.slice())
    return value
  }
  const shallowCopy = trie.shallowCopy.bind(trie)
  trie.shallowCopy = (...args: Parameters<MerklePatriciaTrie['shallowCopy']>) => {
    const copy = shallowCopy(...args)
    memoiseTrie(copy, memo)
    return copy
  }
}

/** Route the trie reads of `vm` (a call VM from `chain.vmAt`, never the chain's head VM) through the chain's memo. */
export function memoiseCallReads(chain: object, vm: VM): VM {
  const trie = (vm.stateManager as unknown as { _trie: MerklePatriciaTrie })._trie
  memoiseTrie(trie, callReadsOf(chain))
  return vm
}
