/** Base of every error Lattice raises on purpose: a stable `code` and a short human message. */
export class LatticeError extends Error {
  /** Stable machine-readable identifier, e.g. `TENSOR_SHAPE_MISMATCH`. */
  readonly code: string
  /** One-line summary without details, for CLI output and RPC messages. */
  readonly shortMessage: string
  readonly details?: string

  constructor(code: string, shortMessage: string, opts: { details?: string; cause?: unknown } = {}) {
    super(opts.details ? `${shortMessage}\n\n${opts.details}` : shortMessage, { cause: opts.cause })
    this.name = new.target.name
    this.code = code
    this.shortMessage = shortMessage
    this.details = opts.details
  }
}

/** Narrow an unknown thrown value to a message, without losing LatticeError's short form. */
export function errorMessage(err: unknown): string {
  if (err instanceof LatticeError) return err.shortMessage
  if (err instanceof Error) return err.message
  return String(err)
}
