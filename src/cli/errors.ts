import { LatticeError } from '../errors.ts'

/** A flag is missing or malformed; the message says which and what to pass. */
export class CliFlagError extends LatticeError {
  constructor(message: string) {
    super('BAD_FLAG', message)
  }
}

/** The node at --rpc-url could not be reached or answered with an error. */
export class NodeRequestError extends LatticeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('NODE_REQUEST', message, opts)
  }
}

/** A transaction was mined but reverted, or could not be sent. */
export class TransactionFailedError extends LatticeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('TX_FAILED', message, opts)
  }
}

/** A model could not be imported (from the HuggingFace Hub, a snapshot directory or the HF cache). */
export class ModelImportError extends LatticeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('MODEL_IMPORT', message, opts)
  }
}

/** `--check` found the files on disk out of date (e.g. `lattice contracts build --check`). */
export class CheckFailedError extends LatticeError {
  constructor(message: string) {
    super('CHECK_FAILED', message)
  }
}
