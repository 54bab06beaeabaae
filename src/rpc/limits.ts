// --rpc.gascap and --rpc.evmtimeout for the methods that execute code on the RPC path, as geth applies them.
// Each request gets its own limits (src/chain/call-limits.ts): the EVM halts at the deadline and hands the
// event loop back every few milliseconds; work that cannot be halted from here (an inference already running
// in a worker) is abandoned: the client gets the timeout error at the deadline and the result is dropped.
import type { CallLimitOpts } from '../chain/call-limits.ts'
import { CallLimits, withCallLimits, withPassedCallLimits } from '../chain/call-limits.ts'
import { CallTimeoutError } from '../chain/errors.ts'
import type { Handlers } from './types.ts'

/** The methods that run under the call limits. */
export const LIMITED_METHODS = [
  'eth_call',
  'eth_estimateGas',
  'eth_createAccessList',
  'eth_simulateV1',
  'debug_traceCall',
  'lattice_infer',
] as const

/**
 * Methods whose client gets the timeout error at the deadline even while work that cannot be halted (an
 * inference in a worker) goes on; it is abandoned. eth_simulateV1 is not among them: its EVM halts at the
 * deadline, and it is otherwise bounded by its 256 blocks; abandoning it would leave it running unseen.
 */
const ABANDONED_AT_DEADLINE = new Set<string>(['eth_call', 'eth_estimateGas', 'eth_createAccessList', 'lattice_infer'])

/**
 * Methods whose handler hands its limits down itself (`ctx.callLimits`) instead of reading them from an
 * AsyncLocalStorage context, whose promise hooks cost ~0.25 ms of a ~1.1 ms eth_call (withPassedCallLimits).
 */
const PASSED_LIMITS = new Set<string>(['eth_call'])

/** Applies the call limits to a server's handlers and halts what is still running when the server closes. */
export class CallLimiter {
  private readonly live = new Set<CallLimits>()

  constructor(private readonly opts: CallLimitOpts = {}) {}

  /** Wrap the limited methods among `handlers` so each request runs under fresh limits. */
  wrap(handlers: Handlers): Handlers {
    const out: Handlers = { ...handlers }
    for (const name of LIMITED_METHODS) {
      const fn = handlers[name]
      if (!fn) continue
      out[name] = PASSED_LIMITS.has(name)
        ? (params, ctx) => this.run(name, (limits) => fn(params, { ...ctx, callLimits: limits }))
        : (params, ctx) => this.run(name, () => fn(params, ctx))
    }
    return out
  }

  /** Halt every call in flight at its next jump (a closing server must not wait for them). */
  abortAll(): void {
    for (const limits of this.live) limits.abort()
  }

  private run(name: string, fn: (limits: CallLimits) => Promise<unknown>): Promise<unknown> {
    const limits = new CallLimits(this.opts)
    this.live.add(limits)
    // an execution halted at the deadline may still produce a result (a simulated call that "failed"):
    // the request's answer is the timeout, as geth's
    const work = (PASSED_LIMITS.has(name) ? withPassedCallLimits(limits, fn) : withCallLimits(limits, () => fn(limits)))
      .then(
        (res) => {
          limits.throwIfHalted()
          return res
        },
        (err) => {
          // an inference abandoned at the deadline fails its execution as local to this node: still a timeout
          limits.throwIfHalted()
          throw err
        },
      )
      .finally(() => this.live.delete(limits))
    if (limits.timeoutMs <= 0 || !ABANDONED_AT_DEADLINE.has(name)) return work
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CallTimeoutError(limits.timeoutMs)), limits.timeoutMs)
    })
    work.catch(() => {}) // once abandoned, its own failure is no longer anyone's
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
  }
}
