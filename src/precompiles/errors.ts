import { LatticeError } from '../errors.ts'
import {
  ProviderUnavailableError,
  RuntimeMismatchError,
  SessionDisposedError,
  WorkerPoolError,
} from '../inference/errors.ts'

/** A call the precompile refuses: becomes a revert with `Error(string)` carrying this message. */
export class InferenceRevert extends LatticeError {
  constructor(message: string) {
    super('INFERENCE_REVERT', message)
  }
}

/**
 * The node cannot get a model's bytes (IPFS unreachable, content missing). This is not the caller's fault
 * and other nodes may succeed, so it must not become a revert in a block: the transaction is refused
 * (block production) or the import stops (replay), and the error reaches the user.
 */
export class ModelUnavailableError extends LatticeError {
  constructor(modelId: string, cid: string, cause: unknown) {
    super(
      'MODEL_UNAVAILABLE',
      `model ${modelId} (package ${cid}) is not available on this node: ${(cause as Error)?.message ?? cause}`,
      {
        cause,
      },
    )
  }
}

/**
 * Something unexpected went wrong inside the precompile on this node (a bug, memory exhausted). It is not
 * judged to be the caller's fault, so it is treated like {@link ModelUnavailableError}: refused, never reverted.
 */
export class InferenceInternalError extends LatticeError {
  constructor(cause: unknown) {
    super('INFERENCE_INTERNAL', `internal error in the inference precompile: ${(cause as Error)?.message ?? cause}`, {
      cause,
    })
  }
}

/**
 * Whether a failure is local to this node: model bytes not obtainable or corrupt here, a session disposed
 * under the call (shutdown), an aborted call, or an error nobody anticipated. Such a failure refuses the
 * transaction; everything else (bad input, runtime errors every node hits the same way, fixed-point
 * NaN/overflow, a model the runtime cannot load) is deterministic and reverts (docs/precompile.md).
 */
export function isNodeLocalFailure(err: unknown): boolean {
  if (err instanceof ModelUnavailableError || err instanceof InferenceInternalError) return true
  if (err instanceof SessionDisposedError || err instanceof ProviderUnavailableError) return true
  // the WebAssembly runtime's worker pool (a worker gone, the queue full) or this node's install of it
  if (err instanceof WorkerPoolError || err instanceof RuntimeMismatchError) return true
  if ((err as { name?: string })?.name === 'AbortError') return true
  return !(err instanceof LatticeError)
}
