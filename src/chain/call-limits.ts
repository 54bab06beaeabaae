// Limits on RPC-path executions (eth_call, eth_estimateGas, eth_simulateV1, debug_traceCall, lattice_infer),
// as geth's --rpc.gascap and --rpc.evmtimeout. ethereumjs runs on the JS thread, so a call cannot be
// pre-empted: instead the EVM of an RPC call checks the clock at its JUMPs and JUMPIs (no loop runs without
// one), hands the event loop back every slice so other requests and block production go on, and halts at the
// deadline. The halt is an ordinary EVM exceptional halt, so every frame's journal is reverted as usual.
//
// The limits travel with the request in an AsyncLocalStorage context rather than through every signature
// between the RPC handler and calls.ts: only the RPC server sets them, and a call made by the node itself
// (the gas estimate of eth_sendTransaction) runs without them, on the head VM as before.

import type { Block } from '@ethereumjs/block'
import type { EVM } from '@ethereumjs/evm'
import { EVMError } from '@ethereumjs/evm'
import type { VM } from '@ethereumjs/vm'
import { type RunDeadline, withRunDeadline } from '../inference/run-deadline.ts'
import { ScopedContext } from '../scoped-context.ts'
import { CallTimeoutError } from './errors.ts'
import { stateKeyOf } from './head-state.ts'

/** geth's default --rpc.gascap. */
export const DEFAULT_RPC_GAS_CAP = 50_000_000n
/** geth's default --rpc.evmtimeout, in milliseconds. */
export const DEFAULT_RPC_EVM_TIMEOUT_MS = 5_000
/** Longest stretch an RPC call runs before it lets the event loop serve others. */
export const CALL_SLICE_MS = 2

/** What the RPC server grants one request. */
export interface CallLimitOpts {
  /** Most gas a call may use (default {@link DEFAULT_RPC_GAS_CAP}); 0 means no cap. */
  gasCap?: bigint
  /** Wall-clock budget in ms (default {@link DEFAULT_RPC_EVM_TIMEOUT_MS}); 0 means none. */
  timeoutMs?: number
}

/**
 * The limits of one RPC request, shared by every execution it makes (eth_estimateGas makes several). Also the
 * deadline of the inferences it starts: their worker is terminated when {@link signal} fires
 * (src/inference/worker-pool.ts), since a run in the runtime cannot look at the clock as the EVM does.
 */
export class CallLimits implements RunDeadline {
  readonly gasCap: bigint
  readonly timeoutMs: number
  /** performance.now() at which the request runs out of time (Infinity without a timeout). */
  private expiresAt: number
  /** Set once an EVM under these limits was halted at the deadline. */
  halted = false
  private sliceStart = performance.now()
  private controller?: AbortController
  private timer?: NodeJS.Timeout

  constructor(opts: CallLimitOpts = {}) {
    this.gasCap = opts.gasCap ?? DEFAULT_RPC_GAS_CAP
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_RPC_EVM_TIMEOUT_MS
    this.expiresAt = this.timeoutMs > 0 ? performance.now() + this.timeoutMs : Number.POSITIVE_INFINITY
  }

  /** Halt every execution under these limits at its next jump (the server is closing). */
  abort(): void {
    this.expiresAt = Number.NEGATIVE_INFINITY
    this.expire()
  }

  /**
   * Aborted at the deadline. Armed on first read (only a request that reaches an inference needs a timer);
   * from then on an inference abandoned at the deadline counts as a halt, so the answer is the timeout error.
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      const left = this.expiresAt - performance.now()
      if (left <= 0) this.expire()
      else if (Number.isFinite(left)) {
        this.timer = setTimeout(() => this.expire(), left)
        this.timer.unref()
      }
    }
    return this.controller.signal
  }

  /** The request's work has ended: its timer is not needed any more. */
  settle(): void {
    clearTimeout(this.timer)
  }

  private expire(): void {
    clearTimeout(this.timer)
    if (!this.controller || this.controller.signal.aborted) return
    this.halted = true
    this.controller.abort(new CallTimeoutError(this.timeoutMs))
  }

  /** Throw geth's timeout error when an execution under these limits was halted at the deadline. */
  throwIfHalted(): void {
    if (this.halted) throw new CallTimeoutError(this.timeoutMs)
  }

  /** Called between EVM steps: yields once a slice is used up; true when the deadline has passed. */
  async tick(): Promise<boolean> {
    if (performance.now() - this.sliceStart >= CALL_SLICE_MS) {
      await nextTurn()
      this.sliceStart = performance.now()
    }
    return performance.now() >= this.expiresAt
  }
}

// off between uses: an AsyncLocalStorage left on slows every promise of the process (scoped-context.ts)
const current = new ScopedContext<CallLimits>()

/** Calls waiting for their next slice, in order. */
const waiting: (() => void)[] = []
let scheduled = false

/**
 * Wait for this call's next slice. Calls take turns, ONE slice per turn of the event loop in all: however
 * many run, block production and other requests (whose I/O completes between turns) wait at most one slice
 * per step. (An immediate scheduled from an immediate runs on the next turn, so releasing one call per
 * immediate spreads them over turns.)
 */
function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiting.push(resolve)
    scheduleTurn()
  })
}

function scheduleTurn(): void {
  if (scheduled) return
  scheduled = true
  setImmediate(() => {
    scheduled = false
    const next = waiting.shift()
    if (waiting.length > 0) scheduleTurn()
    next?.()
  })
}

/**
 * Run `fn` (an RPC handler) under `limits`; executions it starts read them with {@link currentCallLimits},
 * inferences it starts are abandoned at the deadline (src/inference/run-deadline.ts).
 */
export function withCallLimits<T>(limits: CallLimits, fn: () => Promise<T>): Promise<T> {
  return current.run(limits, () => withRunDeadline(limits, fn)).finally(() => limits.settle())
}

/**
 * Run `fn`, a handler that hands `limits` down itself (eth_call: `ExecuteOpts.limits`), under them without a
 * context. On Node 20 a context's run turns on promise hooks for the whole process while it lasts, and an
 * eth_call awaits hundreds of promises: ~0.25 ms of a ~1.1 ms in-process call. Its inferences still get the
 * deadline: the guarded EVM runs its precompiles under it ({@link guardEvm}).
 */
export function withPassedCallLimits<T>(limits: CallLimits, fn: (limits: CallLimits) => Promise<T>): Promise<T> {
  return fn(limits).finally(() => limits.settle())
}

/** The limits of the RPC request being served, or undefined for the node's own executions. */
export function currentCallLimits(): CallLimits | undefined {
  return current.getStore()
}

/**
 * The gas limit of a call asking for `gas`: at most the gas cap of `limits` (default: the request's context),
 * geth's default without any.
 */
export function callGasLimit(gas: bigint, limits: CallLimits | undefined = currentCallLimits()): bigint {
  const cap = limits?.gasCap ?? DEFAULT_RPC_GAS_CAP
  return cap > 0n && gas > cap ? cap : gas
}

const JUMP = 0x56
const JUMPI = 0x57
/** Jumps between two looks at the clock: a look costs ~50 ns, 256 jumps ~0.1 ms of EVM work. */
const JUMPS_PER_CHECK = 256

interface OpcodeEntry {
  opcodeInfo: { isAsync: boolean }
  opHandler: (runState: unknown, common: unknown) => unknown
}

/** The limits an EVM answers to; re-pointed when a pooled VM is lent to another request. */
interface Guard {
  limits?: CallLimits
}

const guards = new WeakMap<EVM, Guard>()

/**
 * Make `evm` (an EVM built for RPC requests, never the chain's own) honour `limits`: its JUMP and JUMPI look
 * at the clock, yield every slice and halt the frame once the deadline has passed.
 */
export function guardEvm(evm: EVM, limits: CallLimits): void {
  const known = guards.get(evm)
  if (known) {
    known.limits = limits
    return
  }
  const guard: Guard = { limits }
  guards.set(evm, guard)
  const host = evm as unknown as { _opcodeMap: OpcodeEntry[]; runPrecompile: (...args: unknown[]) => unknown }
  const map = [...host._opcodeMap]
  let jumps = 0
  for (const code of [JUMP, JUMPI]) {
    const entry = map[code]
    if (!entry) continue
    const inner = entry.opHandler
    const info = Object.assign(Object.create(Object.getPrototypeOf(entry.opcodeInfo)), entry.opcodeInfo, {
      isAsync: true,
    })
    map[code] = {
      ...entry,
      opcodeInfo: info,
      opHandler: async (runState: unknown, common: unknown) => {
        const limits = guard.limits
        if (limits && !limits.halted && ++jumps >= JUMPS_PER_CHECK) {
          jumps = 0
          if (await limits.tick()) limits.halted = true
        }
        // an exceptional halt: the frame's journal is reverted, its caller sees a failed call and halts at its
        // own next jump, up to the top frame
        if (limits?.halted) throw new EVMError('execution timeout' as never)
        return inner(runState, common)
      },
    }
  }
  host._opcodeMap = map
  // a precompile (the inference one) runs under the request's run deadline, also when the limits were handed
  // down rather than set as a context (withPassedCallLimits): the context is on only while a precompile runs
  const runPrecompile = host.runPrecompile.bind(evm)
  host.runPrecompile = (...args: unknown[]) => {
    const limits = guard.limits
    return limits ? withRunDeadline(limits, () => runPrecompile(...args)) : runPrecompile(...args)
  }
}

/** Idle VMs for RPC calls, per chain and block hash; a few blocks' worth (the head moves on). */
const idleByChain = new WeakMap<object, Map<string, VM[]>>()
const POOLED_BLOCKS = 2
const VMS_PER_BLOCK = 4

/**
 * Run `fn` on a VM at `block` lent to the current request: not the chain's head VM, so the call holds no lock
 * while it runs and block production goes on. Building a VM costs 10–50 ms, so they are pooled; `fn` must
 * leave the VM as it found it (calls.ts reverts every call and checks the checkpoint depth). When no VM is idle
 * at `block`'s state, `reposition` may move an idle one from another state (the head moved on: every new block
 * would otherwise build a VM for its first call); it answers false when that VM does not fit (another fork).
 */
export async function withCallVm<T>(
  chain: object,
  block: Block,
  limits: CallLimits,
  make: () => Promise<VM>,
  fn: (vm: VM) => Promise<T>,
  reposition?: (vm: VM) => Promise<boolean>,
): Promise<T> {
  let idleVms = idleByChain.get(chain)
  if (!idleVms) {
    idleVms = new Map()
    idleByChain.set(chain, idleVms)
  }
  // keyed by state, not only block: a devnet edit moves the head's state without a new block (head-state.ts)
  const key = stateKeyOf(chain as { head: Block }, block)
  const vm = idleVms.get(key)?.pop() ?? (reposition && (await takeIdle(idleVms, reposition))) ?? (await make())
  guardEvm(vm.evm as EVM, limits)
  let clean = false
  try {
    const out = await fn(vm)
    clean = true
    return out
  } finally {
    const guard = guards.get(vm.evm as EVM)
    if (guard) guard.limits = undefined
    if (clean) {
      const list = idleVms.get(key) ?? []
      if (list.length < VMS_PER_BLOCK) list.push(vm)
      idleVms.delete(key) // re-insert: the most recently used block is kept longest
      idleVms.set(key, list)
      for (const k of idleVms.keys()) {
        if (idleVms.size <= POOLED_BLOCKS) break
        idleVms.delete(k)
      }
    }
  }
}

/** An idle VM of another state, least recently used first, moved by `reposition`; undefined when none fits. */
async function takeIdle(idleVms: Map<string, VM[]>, reposition: (vm: VM) => Promise<boolean>): Promise<VM | undefined> {
  for (const [k, list] of idleVms) {
    const vm = list.pop()
    if (list.length === 0) idleVms.delete(k)
    if (!vm) continue
    // taken out of the pool before the await: a concurrent request cannot take it too. One that does not fit
    // is dropped (the pool refills from make()); a failed move leaves it in an unknown state, so it goes too
    if (await reposition(vm).catch(() => false)) return vm
    return undefined
  }
  return undefined
}
