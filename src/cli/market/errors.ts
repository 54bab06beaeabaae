// The accelerated-inference market commands' own failure conditions (docs/accelerated.md, "CLI").
import { LatticeError } from '../../errors.ts'

/** The node has no InferenceMarket predeploy at the market address (an older genesis). */
export class MarketMissingError extends LatticeError {
  constructor(address: string, url: string) {
    super(
      'MARKET_MISSING',
      `No InferenceMarket at ${address} on the node at ${url}. Start a devnet or node whose genesis has it (lattice devnet --reset on a new datadir).`,
    )
  }
}

/** A request or claim the command was asked about does not exist or is in the wrong state. */
export class MarketStateError extends LatticeError {
  constructor(message: string) {
    super('MARKET_STATE', message)
  }
}

/** The executor could not load the model of a request (package missing from its store, digest mismatch, ...). */
export class ExecutorModelError extends LatticeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('EXECUTOR_MODEL', message, opts)
  }
}
