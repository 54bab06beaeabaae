// The inference-root system call (docs/proofs.md): at the start of block N+1, before any transaction, the
// node calls InferenceVerifier from the system address with abi.encode(N, root of block N's records). Block
// building and import run this same function, so both reach the same state root.
import type { Block } from '@ethereumjs/block'
import {
  bigIntToBytes,
  bytesToHex,
  concatBytes,
  createAddressFromString,
  hexToBytes,
  setLengthLeft,
} from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { INFERENCE_VERIFIER_ADDRESS } from '../precompiles/addresses.ts'
import { InferenceRootSystemCallError } from '../proofs/errors.ts'
import type { ProofRecord } from '../proofs/merkle.ts'
import { EMPTY_INFERENCE_ROOT, inferenceRoot } from '../proofs/merkle.ts'
import { assertCheckpointDepth, checkpointDepth } from './checkpoints.ts'
import type { BlockInferenceRecord } from './inference-records.ts'

/** The caller of system calls (EIP-4788 / EIP-2935's SYSTEM_ADDRESS). */
export const SYSTEM_ADDRESS = '0xfffffffffffffffffffffffffffffffffffffffe'

/** Gas the system call may use; it is not charged to anyone. */
const SYSTEM_CALL_GAS = 30_000_000n

/** A block's stored records as leaves commit to them (chain id and block number added). */
export function proofRecords(chainId: bigint, blockNumber: bigint, records: BlockInferenceRecord[]): ProofRecord[] {
  return records.map((r) => ({
    chainId,
    blockNumber,
    txHash: r.txHash,
    index: r.index,
    modelId: r.modelId,
    inputHash: r.inputHash,
    outputHash: r.outputHash,
    flops: r.flops,
  }))
}

/** The inference root of `block` from its stored records (0x00…00 when it ran none). */
export function blockInferenceRoot(chainId: bigint, block: Block, records: BlockInferenceRecord[]): string {
  return inferenceRoot(proofRecords(chainId, block.header.number, records))
}

/**
 * Write `root` (block `number`'s) into InferenceVerifier with a system call on `vm`'s current state.
 * Nothing happens for an empty root or when the chain has no InferenceVerifier code (foreign genesis).
 */
export async function applyInferenceRoot(vm: VM, number: bigint, root: string): Promise<void> {
  if (root === EMPTY_INFERENCE_ROOT) return
  const to = createAddressFromString(INFERENCE_VERIFIER_ADDRESS)
  if ((await vm.stateManager.getCode(to)).length === 0) return
  const depth = checkpointDepth(vm)
  const res = await vm.evm.runCall({
    caller: createAddressFromString(SYSTEM_ADDRESS),
    to,
    data: concatBytes(setLengthLeft(bigIntToBytes(number), 32), hexToBytes(root as `0x${string}`)),
    gasLimit: SYSTEM_CALL_GAS,
    skipNonceIncrement: true,
  })
  await assertCheckpointDepth(vm, `the inference-root system call for block ${number}`, depth)
  // the system address was touched by the call; EIP-161 removes it again, the same way on every path
  await vm.evm.journal.cleanup()
  const err = res.execResult.exceptionError
  if (err) throw new InferenceRootSystemCallError(number, `${err.error} ${bytesToHex(res.execResult.returnValue)}`)
}
