import { LatticeError } from '../errors.ts'

/** A transaction the pool or the block builder refuses; `reason` follows geth's wording. */
export class TxRejectedError extends LatticeError {
  constructor(code: string, message: string) {
    super(code, message)
  }
}

export const txErrors = {
  nonceTooLow: (sender: string, txNonce: bigint, stateNonce: bigint) =>
    new TxRejectedError('NONCE_TOO_LOW', `nonce too low: address ${sender}, tx: ${txNonce} state: ${stateNonce}`),
  insufficientFunds: (sender: string, have: bigint, want: bigint) =>
    new TxRejectedError(
      'INSUFFICIENT_FUNDS',
      `insufficient funds for gas * price + value: address ${sender} have ${have} want ${want}`,
    ),
  underpriced: (what: string) => new TxRejectedError('UNDERPRICED', `transaction underpriced: ${what}`),
  replacementUnderpriced: () => new TxRejectedError('REPLACEMENT_UNDERPRICED', 'replacement transaction underpriced'),
  gasLimitTooHigh: (gas: bigint, limit: bigint) =>
    new TxRejectedError('GAS_LIMIT_TOO_HIGH', `exceeds block gas limit: tx gas ${gas}, limit ${limit}`),
  gasCapTooHigh: (gas: bigint, cap: bigint) =>
    new TxRejectedError('GAS_LIMIT_TOO_HIGH', `transaction gas limit too high (cap: ${cap}, tx: ${gas})`),
  intrinsicGas: (gas: bigint, need: bigint) =>
    new TxRejectedError('INTRINSIC_GAS_TOO_LOW', `intrinsic gas too low: have ${gas}, want ${need}`),
  wrongChainId: (got: bigint, want: bigint) =>
    new TxRejectedError('WRONG_CHAIN_ID', `invalid chain id: have ${got}, want ${want}`),
  invalidSignature: (detail: string) => new TxRejectedError('INVALID_SIGNATURE', `invalid transaction: ${detail}`),
  alreadyKnown: () => new TxRejectedError('ALREADY_KNOWN', 'already known'),
  poolFull: () => new TxRejectedError('TXPOOL_FULL', 'txpool is full'),
  unsupportedType: (t: number) => new TxRejectedError('TX_TYPE_NOT_SUPPORTED', `transaction type not supported: ${t}`),
}

/** A block, transaction or state that the caller asked for does not exist. */
export class NotFoundError extends LatticeError {
  constructor(what: string) {
    super('NOT_FOUND', what)
  }
}

/** The requested historical state has been pruned or is unknown. */
export class MissingStateError extends LatticeError {
  constructor(block: bigint) {
    super('MISSING_STATE', `state for block ${block} is not available`)
  }
}

/** A genesis file that cannot be used; the message names the field. */
export class GenesisError extends LatticeError {
  constructor(message: string) {
    super('INVALID_GENESIS', message)
  }
}

/** The datadir holds a chain from another genesis. */
export class DatadirMismatchError extends LatticeError {
  constructor(datadir: string) {
    super(
      'DATADIR_GENESIS_MISMATCH',
      `The data directory ${datadir} holds a chain from a different genesis. Pass --reset to start over or another --datadir.`,
    )
  }
}

/** Another process holds the datadir's database. */
export class DatadirLockedError extends LatticeError {
  constructor(datadir: string) {
    super(
      'DATADIR_LOCKED',
      `The data directory ${datadir} is in use by another Lattice process. Stop it or pass another --datadir.`,
    )
  }
}

/** Execution reverted during eth_call / eth_estimateGas; carries the raw revert data. */
export class ExecutionRevertedError extends LatticeError {
  readonly data: string
  constructor(reason: string | undefined, data: string) {
    super('EXECUTION_REVERTED', reason ? `execution reverted: ${reason}` : 'execution reverted')
    this.data = data
  }
}

/** Execution failed for a reason other than a revert (out of gas, invalid opcode, ...). */
export class ExecutionFailedError extends LatticeError {
  constructor(reason: string) {
    super('EXECUTION_FAILED', reason)
  }
}

/** A snapshot id that evm_revert does not know. */
export class UnknownSnapshotError extends LatticeError {
  constructor(id: string) {
    super('UNKNOWN_SNAPSHOT', `unknown snapshot ${id}`)
  }
}

/** A timestamp for the next block that is not after the head's. */
export class TimestampError extends LatticeError {
  constructor(message: string) {
    super('INVALID_TIMESTAMP', message)
  }
}

/** A block in an imported file that fails validation; `number` is the block's height. */
export class BlockImportError extends LatticeError {
  constructor(
    readonly number: bigint,
    readonly reason: string,
  ) {
    super('BLOCK_IMPORT_FAILED', `block ${number} is invalid: ${reason}`)
  }
}

/** A block file that cannot be read as RLP blocks written back to back. */
export class BlockFileError extends LatticeError {
  constructor(message: string) {
    super('BAD_BLOCK_FILE', message)
  }
}

/** A datadir that `lattice init` has not prepared (no genesis.json in it). */
export class DatadirNotInitialisedError extends LatticeError {
  constructor(datadir: string) {
    super(
      'DATADIR_NOT_INITIALISED',
      `The data directory ${datadir} has no genesis. Run \`lattice init --genesis genesis.json --datadir ${datadir}\` first.`,
    )
  }
}

/** A block or transaction that cannot be traced (genesis, unknown, state missing). */
export class TraceError extends LatticeError {
  constructor(message: string) {
    super('TRACE_FAILED', message)
  }
}

/** The Solidity sources in contracts/ do not compile, or the loaded solc is not the pinned version. */
export class ContractCompileError extends LatticeError {
  constructor(message: string, details?: string) {
    super('CONTRACT_COMPILE_FAILED', message, { details })
  }
}

/** eth_simulateV1 refused the request; `rpcCode` is the code geth gives the same condition. */
export class SimulateError extends LatticeError {
  constructor(
    readonly rpcCode: number,
    message: string,
  ) {
    super('SIMULATE_FAILED', message)
  }
}

/**
 * Internal: execution left a state checkpoint open on a VM (nothing would be flushed from then on). The node
 * rolled the VM back before throwing this; it means a bug, so it is loud rather than silent.
 */
export class OpenCheckpointError extends LatticeError {
  constructor(where: string, depth: number, expected: number) {
    super(
      'INTERNAL_OPEN_CHECKPOINT',
      `internal error: ${where} left ${depth - expected} state checkpoint(s) open (depth ${depth}, expected ${expected}); the state was rolled back`,
    )
  }
}

/**
 * A block this node cannot execute for a reason local to it (a model's bytes are not obtainable or corrupt
 * here). The block is not judged invalid; the import stops until the model is available.
 */
export class ImportHaltedError extends LatticeError {
  constructor(
    readonly number: bigint,
    reason: string,
  ) {
    super(
      'BLOCK_IMPORT_HALTED',
      `cannot execute block ${number} on this node: ${reason}. The block is not judged invalid; make the model available (IPFS or the model cache) and import again.`,
    )
  }
}

/** An eth_call / eth_estimateGas / eth_simulateV1 state override that would rewrite the model registry or the precompile. */
export class ProtectedOverrideError extends LatticeError {
  constructor(address: string, what: string) {
    super('PROTECTED_OVERRIDE', `state override of ${address} is not allowed: ${what}`)
  }
}

/** An RPC-path execution (eth_call, eth_estimateGas, ...) ran past `--rpc.evmtimeout`; geth's wording. */
export class CallTimeoutError extends LatticeError {
  constructor(readonly timeoutMs: number) {
    super('CALL_TIMEOUT', `execution aborted (timeout = ${formatDuration(timeoutMs)})`)
  }
}

/** A duration as Go's time.Duration prints it for whole units: 5s, 1.5s, 300ms, 2m0s. */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) return `${ms / 1000}s`
  const m = Math.floor(ms / 60_000)
  return `${m}m${(ms - m * 60_000) / 1000}s`
}

/** A devnet state edit (anvil_setCode, anvil_setStorageAt, ...) of the model registry or the precompile. */
export class ProtectedStateError extends LatticeError {
  constructor(method: string, address: string, what: string) {
    super('PROTECTED_STATE', `${method} of ${address} is not allowed: ${what}`)
  }
}

/** A state dump that anvil_loadState cannot read; the message says what is wrong with it. */
export class StateDumpError extends LatticeError {
  constructor(what: string) {
    super('STATE_DUMP_INVALID', `cannot load state: ${what}`)
  }
}

/** A block of the write-ahead log that could not be imported again at start; the log is kept for the next start. */
export class WalReplayError extends LatticeError {
  constructor(
    readonly number: bigint,
    reason: string,
  ) {
    super(
      'WAL_REPLAY_FAILED',
      `block ${number} of the write-ahead log could not be replayed: ${reason}. The log is kept: fix the cause and start the node again.`,
    )
  }
}
