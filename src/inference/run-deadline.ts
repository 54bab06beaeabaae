// The deadline of an RPC-path inference. The RPC server gives eth_call and friends a budget
// (src/chain/call-limits.ts); an inference running in a worker cannot look at a clock, so the worker pool
// (src/inference/worker-pool.ts) terminates the worker when the budget's signal fires and replaces it.
//
// The signal travels in an AsyncLocalStorage context, as the call limits do, instead of through the
// precompile, the session cache and the session: only the RPC server sets it, so block execution (mining,
// import) never has one and waits for its inferences as before.
import { ScopedContext } from '../scoped-context.ts'

/** What an RPC request lends the inferences it starts: a signal that fires at its deadline. */
export interface RunDeadline {
  /** Aborted at the deadline (or when the server closes); read only when a run starts (it may arm a timer). */
  readonly signal: AbortSignal
}

// off between uses: an AsyncLocalStorage left on slows every promise of the process (scoped-context.ts)
const current = new ScopedContext<RunDeadline>()

/** Run `fn` with `deadline` as the deadline of every inference run it starts. */
export function withRunDeadline<T>(deadline: RunDeadline, fn: () => T): T {
  return current.run(deadline, fn)
}

/** The abort signal of the RPC request being served, or undefined (block execution, the node's own work). */
export function currentRunSignal(): AbortSignal | undefined {
  return current.getStore()?.signal
}
