// Import: executing a block built elsewhere on the head with full validation (header, transactions, and the
// roots, bloom and gas it claims), then storing it. Split from chain.ts (one job per file); the Chain's
// `importBlock` and `execute` methods call these.
import type { Block } from '@ethereumjs/block'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { runBlock } from '@ethereumjs/vm'
import { LatticeError } from '../errors.ts'
import { isNodeLocalFailure } from '../precompiles/errors.ts'
import type { Chain, MinedTx } from './chain.ts'
import { assertCheckpointDepth, unwindCheckpoints } from './checkpoints.ts'
import { BlockImportError, ImportHaltedError, OpenCheckpointError } from './errors.ts'
import { describeInferenceMismatch } from './import-diagnostics.ts'
import { applyInferenceRoot } from './inference-roots.ts'
import type { StoredReceipt } from './receipts.ts'
import { importReason } from './tx-receipts.ts'

/**
 * Execute a block received from elsewhere (import) on top of the head with full validation:
 * header against its parent, transactions, and the state root, receipts root, bloom and gas used
 * it claims. Returns 'known' for a block already in the canonical chain. Must run inside `exclusive`.
 */
export async function importBlock(
  chain: Chain,
  block: Block,
  opts: { trusted?: boolean } = {},
): Promise<'imported' | 'known'> {
  const parent = chain.head
  chain.txRecords.clear()
  const n = block.header.number
  if (n <= parent.header.number) {
    const have = await chain.getBlockByNumber(n)
    if (have && equalsBytes(have.hash(), block.hash())) return 'known'
    throw new BlockImportError(n, `it is not on the local chain (local head is ${parent.header.number})`)
  }
  if (n !== parent.header.number + 1n || !equalsBytes(block.header.parentHash, parent.hash())) {
    throw new BlockImportError(
      n,
      `its parent ${bytesToHex(block.header.parentHash)} is not the local head #${parent.header.number}`,
    )
  }
  const included = await chain.execute(block, parent, opts)
  try {
    await chain.commitBlock(block, included)
  } catch (err) {
    await chain.backTo(parent)
    throw new BlockImportError(n, importReason(err))
  }
  return 'imported'
}

/**
 * Execute `block` on the post-state of `parent` (any block whose state is known) with full validation,
 * without storing it: the VM is left at the block's post-state with its inference records pending (commit it,
 * or call `backTo`). Throws BlockImportError (invalid block, the text names what differed) or ImportHaltedError
 * (a model this node cannot get), with the VM back at the head. Must run inside `exclusive`.
 */
export async function executeBlock(
  chain: Chain,
  block: Block,
  parent: Block,
  opts: { trusted?: boolean } = {},
): Promise<MinedTx[]> {
  const n = block.header.number
  chain.txRecords.clear()
  chain.vm.common.setHardforkBy({ blockNumber: n, timestamp: block.header.timestamp })
  let result: Awaited<ReturnType<typeof runBlock>>
  try {
    // the same system call mine() makes, applied on the parent state first (it commutes with runBlock's
    // own EIP-4788/2935 writes, which touch other accounts), then the block runs on top of it
    await chain.stateManager.setStateRoot(parent.header.stateRoot)
    await applyInferenceRoot(chain.vm, parent.header.number, await chain.inferenceRootOf(parent))
    const root = await chain.stateManager.getStateRoot()
    result = await runBlock(chain.vm, {
      block,
      root,
      setHardfork: true,
      // `trusted`: a block this node built (the write-ahead log), whose devnet header choices import would refuse
      skipHeaderValidation: opts.trusted === true,
    })
    await assertCheckpointDepth(chain.vm, `importing block ${n}`)
  } catch (err) {
    await unwindCheckpoints(chain.vm)
    const records = new Map(chain.txRecords)
    await chain.backTo()
    if (err instanceof OpenCheckpointError) throw err
    // a model this node cannot get says nothing about the block: stop, without calling it invalid
    if (err instanceof LatticeError && isNodeLocalFailure(err)) throw new ImportHaltedError(n, err.shortMessage)
    // a mismatch in a block with inferences (its own, or its parent's whose root it commits) names them
    const note = describeInferenceMismatch(
      err,
      { number: n, records },
      { number: parent.header.number, records: await chain.getInferenceRecords(parent.hash()) },
    )
    throw new BlockImportError(n, importReason(err) + note)
  }
  return block.transactions.map((tx, i) => ({
    tx,
    result: result.results[i],
    receipt: undefined as unknown as StoredReceipt,
  }))
}
