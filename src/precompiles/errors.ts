import { LatticeError } from '../errors.ts'

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
