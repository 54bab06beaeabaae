// Every call, transaction and block must leave the VM's state manager without an open checkpoint: while one
// is open nothing is flushed to the trie, later state roots are never written and the datadir cannot be
// reopened. The node checks the depth after each runTx/runCall/runBlock and rolls back a leak loudly.
import type { VM } from '@ethereumjs/vm'
import { OpenCheckpointError } from './errors.ts'

interface DepthOf {
  /** MerkleStateManager's count of open checkpoints (the EVM journal's height is reset mid-transaction). */
  _checkpointCount?: number
}

/** Open checkpoints on `vm`'s state manager. */
export function checkpointDepth(vm: VM): number {
  return (vm.stateManager as unknown as DepthOf)._checkpointCount ?? 0
}

/** Revert every open checkpoint on `vm` and clear the EVM journal: back to the last flushed state. */
export async function unwindCheckpoints(vm: VM): Promise<void> {
  while (checkpointDepth(vm) > 0) await vm.stateManager.revert()
  vm.evm.journal.cleanJournal()
}

/**
 * Throw {@link OpenCheckpointError} when `vm` has more than `expected` open checkpoints after `where`, having
 * first reverted all of them (and reset the state root to `root` when given).
 */
export async function assertCheckpointDepth(vm: VM, where: string, expected = 0, root?: Uint8Array): Promise<void> {
  const depth = checkpointDepth(vm)
  if (depth === expected) return
  await unwindCheckpoints(vm)
  if (root) await vm.stateManager.setStateRoot(root)
  throw new OpenCheckpointError(where, depth, expected)
}
