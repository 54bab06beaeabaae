// What the chain keeps per executed transaction (its receipt as stored, the gas price it paid) and how ethereumjs'
// failures read in Lattice's errors: shared by block building, import and the Engine API (chain.ts).
import type { TypedTransaction } from '@ethereumjs/tx'
import { createContractAddress } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import { LatticeError } from '../errors.ts'
import { TxRejectedError } from './errors.ts'
import type { StoredReceipt } from './receipts.ts'

/** Gas price actually paid per unit of gas. */
export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  if ('maxPriorityFeePerGas' in tx) {
    const tip =
      tx.maxPriorityFeePerGas < tx.maxFeePerGas - baseFee ? tx.maxPriorityFeePerGas : tx.maxFeePerGas - baseFee
    return baseFee + tip
  }
  return (tx as { gasPrice: bigint }).gasPrice
}

/** The receipt kept for `tx`, executed with `result` in a block whose base fee is `baseFee`. */
export function storedReceipt(tx: TypedTransaction, result: RunTxResult, baseFee: bigint): StoredReceipt {
  const r = result.receipt
  const sender = tx.getSenderAddress()
  return {
    type: tx.type,
    status: 'status' in r ? (r.status as 0 | 1) : 1,
    cumulativeGasUsed: r.cumulativeBlockGasUsed,
    gasUsed: result.totalGasSpent,
    logsBloom: r.bitvector,
    logs: r.logs as StoredReceipt['logs'],
    contractAddress: tx.to === undefined ? createContractAddress(sender, tx.nonce).bytes : undefined,
    effectiveGasPrice: effectiveGasPrice(tx, baseFee),
    from: sender.bytes,
    root: 'stateRoot' in r ? (r.stateRoot as Uint8Array) : undefined,
  }
}

/** A transaction the block builder refused, as a Lattice error. */
export function toTxError(err: unknown): Error {
  if (err instanceof LatticeError) return err
  const msg = (err as Error).message ?? String(err)
  return new TxRejectedError('TX_INVALID', msg.split(' (')[0].replace(/^Error: /, ''))
}

/** The first clause of an ethereumjs validation error, without its block dump. */
export function importReason(err: unknown): string {
  if (err instanceof LatticeError) return err.shortMessage
  const msg = String((err as Error)?.message ?? err)
  // ethereumjs appends "(vm hf=... -> block number=... hash=...)": the block is named by the caller
  return msg.split(/ \(vm hf=| \(block number=| \(tx type=| block number=| hash=/)[0].trim()
}
