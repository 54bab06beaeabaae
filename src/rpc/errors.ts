import {
  ExecutionFailedError,
  ExecutionRevertedError,
  MissingStateError,
  NotFoundError,
  OpenCheckpointError,
  ProtectedOverrideError,
  TimestampError,
  TxRejectedError,
  UnknownSnapshotError,
} from '../chain/errors.ts'
import { LatticeError } from '../errors.ts'

/** Standard JSON-RPC and Ethereum error codes. */
export const RpcCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** geth's generic server error (tx rejected, missing state, ...) */
  server: -32000,
  /** eth_call / eth_estimateGas revert, with the revert data */
  executionReverted: 3,
  /** request too large / limit exceeded */
  limitExceeded: -32005,
} as const

/** An error already in JSON-RPC form. */
export class RpcError extends LatticeError {
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`RPC_${rpcCode}`, message)
  }
}

/** A parameter that does not have the expected type or value; the message names it. */
export function invalidParams(message: string): RpcError {
  return new RpcError(RpcCode.invalidParams, message)
}

/** The one place where domain errors become JSON-RPC errors. */
export function toRpcError(err: unknown): { code: number; message: string; data?: unknown } {
  if (err instanceof RpcError)
    return { code: err.rpcCode, message: err.shortMessage, ...(err.data !== undefined ? { data: err.data } : {}) }
  if (err instanceof ExecutionRevertedError)
    return { code: RpcCode.executionReverted, message: err.shortMessage, data: err.data }
  if (err instanceof TxRejectedError) {
    if (err.code === 'UNKNOWN_ACCOUNT') return { code: RpcCode.server, message: err.shortMessage }
    return { code: RpcCode.server, message: err.shortMessage }
  }
  if (err instanceof ExecutionFailedError || err instanceof MissingStateError || err instanceof NotFoundError) {
    return { code: RpcCode.server, message: err.shortMessage }
  }
  if (err instanceof TimestampError || err instanceof UnknownSnapshotError || err instanceof ProtectedOverrideError)
    return { code: RpcCode.invalidParams, message: err.shortMessage }
  // a bug the node caught and rolled back: loud, as an internal error
  if (err instanceof OpenCheckpointError) return { code: RpcCode.internal, message: err.shortMessage }
  if (err instanceof LatticeError) return { code: RpcCode.server, message: err.shortMessage }
  return { code: RpcCode.internal, message: `internal error: ${(err as Error)?.message ?? String(err)}` }
}
