import type { Block } from '@ethereumjs/block'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToHex, bytesToHex, createAddressFromBigInt, equalsBytes, setLengthLeft } from '@ethereumjs/util'
import type { AfterTxEvent } from '@ethereumjs/vm'
import { runBlock } from '@ethereumjs/vm'
import type { Chain } from './chain.ts'
import { assertCheckpointDepth } from './checkpoints.ts'
import { TraceError } from './errors.ts'
import { withImpersonatedSenders } from './impersonation.ts'
import { applyInferenceRoot } from './inference-roots.ts'
import { decodeRevertReason } from './revert.ts'
import { sandboxVM } from './sandbox.ts'

/** geth's struct logger options (debug_trace* config). */
export interface StructLoggerOpts {
  disableStack?: boolean
  disableStorage?: boolean
  enableMemory?: boolean
  enableReturnData?: boolean
}

/** geth's `callTracer` options. */
export interface CallTracerOpts {
  onlyTopCall?: boolean
  withLog?: boolean
}

export type TraceOpts =
  | ({ tracer?: undefined } & StructLoggerOpts)
  | { tracer: 'callTracer'; tracerConfig?: CallTracerOpts }

/** One step of geth's struct logger. */
export interface StructLog {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  stack?: string[]
  memory?: string[]
  storage?: Record<string, string>
  returnData?: string
  refund?: number
  error?: string
}

/** geth's struct logger result for one transaction. */
export interface StructTrace {
  gas: number
  failed: boolean
  returnValue: string
  structLogs: StructLog[]
}

/** geth's callTracer frame. */
export interface CallFrame {
  type: string
  from: string
  to?: string
  value?: string
  gas: string
  gasUsed: string
  input: string
  output?: string
  error?: string
  revertReason?: string
  logs?: { address: string; topics: string[]; data: string; position: string }[]
  calls?: CallFrame[]
}

export type TxTrace = StructTrace | CallFrame

/**
 * What one trace request may hold (docs/rpc.md). The struct logger copies the stack, and with enableMemory and
 * enableReturnData the whole memory and return data, at every step: without a bound one transaction with a large
 * memory or return value would need far more than the node has. Sizes are those of the JSON reply, counted
 * before anything is copied; a trace over the bound is refused with an error that says so.
 */
export const TRACE_LIMITS = {
  /**
   * Most bytes of trace output for one debug_trace* request (all its transactions together). Well under what
   * Node can serialise as one JSON reply (a string of 512 MiB at most).
   */
  maxBytes: 64 * 1024 * 1024,
} as const

/** The bytes left for one trace request; shared by the tracers of a block. */
export class TraceBudget {
  left: number = TRACE_LIMITS.maxBytes
  over = false

  /** Take `n` bytes; false (and the budget marked over) when they do not fit. */
  take(n: number): boolean {
    if (this.over || n > this.left) {
      this.over = true
      return false
    }
    this.left -= n
    return true
  }
}

/** JSON size of one struct log without its stack, memory, storage and return data (field names, numbers). */
const STEP_JSON_BYTES = 110

/** JSON size of a hex string for `bytes` bytes, quotes and comma included. */
const hexSize = (bytes: number) => 2 * bytes + 5

export interface Tracer {
  step(step: InterpreterStep): Promise<void>
  enter(msg: Message): void
  exit(result: EVMResult): void
  finish(tx: TypedTransaction, ev: AfterTxEvent): TxTrace
}

const CALL_OPS: Record<number, string> = {
  240: 'CREATE',
  241: 'CALL',
  242: 'CALLCODE',
  244: 'DELEGATECALL',
  245: 'CREATE2',
  250: 'STATICCALL',
}

/** geth's wording for EVM errors. */
function gethError(err: string): string {
  if (err === 'revert') return 'execution reverted'
  if (err === 'stack underflow') return 'stack underflow'
  if (err === 'invalid opcode') return 'invalid opcode'
  return err
}

const hexWord = (v: bigint) => bytesToHex(setLengthLeft(bigIntToBytes32(v), 32))
function bigIntToBytes32(v: bigint): Uint8Array {
  const hex = v.toString(16).padStart(64, '0')
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** A call frame as the struct logger follows it: geth's `scope.ReturnData()` is per frame. */
interface LoggerFrame {
  depth: number
  isCreate: boolean
  /** The return data buffer of this frame: what its last call or create left (empty before any). */
  returnData: Uint8Array
}

/** Errors geth finds before it logs a step (stack checks, constant and dynamic gas): the step carries them. */
const PRE_STEP_ERRORS = new Set(['out of gas', 'stack underflow', 'stack overflow'])

class StructLogger implements Tracer {
  private readonly logs: StructLog[] = []
  private readonly storage = new Map<string, Record<string, string>>()
  private readonly frames: LoggerFrame[] = []
  /** The step logged last (undefined when the last step was not logged: over the budget). */
  private lastLog?: StructLog

  constructor(
    private readonly opts: StructLoggerOpts,
    private readonly budget: TraceBudget,
  ) {}

  async step(s: InterpreterStep): Promise<void> {
    this.lastLog = undefined
    if (this.budget.over) return
    const returnData = this.frames.at(-1)?.returnData ?? new Uint8Array()
    // the stack is small (1024 words at most); memory and return data are sized before they are copied
    const stack = this.opts.disableStack ? undefined : s.stack.map((v) => bigIntToHex(v))
    const memWords = this.opts.enableMemory ? Math.ceil(s.memory.length / 32) : 0
    const retBytes = this.opts.enableReturnData ? returnData.length : 0
    const size =
      STEP_JSON_BYTES +
      (stack ? stack.reduce((n, v) => n + v.length + 3, 0) : 0) +
      memWords * hexSize(32) +
      (retBytes ? hexSize(retBytes) : 0)
    if (!this.budget.take(size)) return
    const log: StructLog = {
      pc: s.pc,
      op: s.opcode.name,
      gas: Number(s.gasLeft),
      gasCost: Number(s.opcode.dynamicFee ?? BigInt(s.opcode.fee)),
      depth: s.depth + 1,
    }
    if (stack) log.stack = stack
    if (this.opts.enableMemory && s.memory.length > 0) {
      const words: string[] = []
      for (let i = 0; i < s.memory.length; i += 32) words.push(bytesToHex(setLengthRight(s.memory.subarray(i, i + 32))))
      log.memory = words
    }
    if (this.opts.enableReturnData && returnData.length > 0) log.returnData = bytesToHex(returnData)
    const code = s.opcode.code
    if (!this.opts.disableStorage && (code === 0x54 || code === 0x55) && s.stack.length >= (code === 0x54 ? 1 : 2)) {
      const key = s.stack[s.stack.length - 1]
      const addr = s.address.toString()
      const map = this.storage.get(addr) ?? {}
      if (code === 0x54) {
        const v = await s.stateManager.getStorage(s.address, setLengthLeft(bigIntToBytes32(key), 32))
        map[hexWord(key)] = bytesToHex(setLengthLeft(v, 32))
      } else {
        map[hexWord(key)] = hexWord(s.stack[s.stack.length - 2])
      }
      this.storage.set(addr, map)
      if (!this.budget.take(Object.keys(map).length * 140)) return
      log.storage = { ...map }
    }
    if (s.gasRefund > 0n) log.refund = Number(s.gasRefund)
    this.logs.push(log)
    this.lastLog = log
  }

  enter(msg: Message): void {
    this.frames.push({ depth: msg.depth, isCreate: msg.to === undefined, returnData: new Uint8Array() })
  }

  exit(result: EVMResult): void {
    const frame = this.frames.pop()
    if (!frame) return
    const r = result.execResult
    const err = r.exceptionError?.error
    // the step that halted the frame is its last one (a precompile frame has none: depth tells them apart)
    const last = this.lastLog
    if (err && PRE_STEP_ERRORS.has(err) && last && last.depth === frame.depth + 1) {
      last.error =
        err === 'out of gas' && last.op === 'SSTORE' && last.gas <= 2300
          ? 'out of gas: not enough gas for reentrancy sentry'
          : err
    }
    this.lastLog = undefined
    const parent = this.frames.at(-1)
    if (!parent) return
    // geth: a call leaves what it returned (nothing after an exceptional halt); a create leaves only its revert data
    const reverted = err === 'revert'
    parent.returnData = frame.isCreate
      ? reverted
        ? r.returnValue
        : new Uint8Array()
      : err && !reverted
        ? new Uint8Array()
        : r.returnValue
  }

  finish(_tx: TypedTransaction, ev: AfterTxEvent): StructTrace {
    if (!this.budget.take(hexSize(ev.execResult.returnValue.length))) throw overBudget()
    const err = ev.execResult.exceptionError
    return {
      gas: Number(ev.totalGasSpent),
      failed: err !== undefined,
      returnValue: bytesToHex(ev.execResult.returnValue),
      structLogs: this.logs,
    }
  }
}

function setLengthRight(b: Uint8Array): Uint8Array {
  if (b.length === 32) return b
  const out = new Uint8Array(32)
  out.set(b)
  return out
}

class CallTracer implements Tracer {
  private readonly stack: CallFrame[] = []
  private root?: CallFrame
  /** The opcode last executed at each depth: tells CALL from STATICCALL, CREATE from CREATE2. */
  private readonly lastOp: number[] = []

  constructor(
    private readonly opts: CallTracerOpts,
    private readonly budget: TraceBudget,
  ) {}

  async step(s: InterpreterStep): Promise<void> {
    this.lastOp[s.depth] = s.opcode.code
    const frame = this.stack[this.stack.length - 1]
    if (!frame) return
    const code = s.opcode.code
    if (this.opts.withLog && code >= 0xa0 && code <= 0xa4) {
      const st = s.stack
      const offset = Number(st[st.length - 1])
      const size = Number(st[st.length - 2])
      if (!this.budget.take(hexSize(size) + 300)) return
      const topics = st
        .slice(st.length - 2 - (code - 0xa0), st.length - 2)
        .reverse()
        .map(hexWord)
      const data = new Uint8Array(size)
      data.set(s.memory.subarray(offset, offset + size))
      frame.logs ??= []
      frame.logs.push({
        address: s.address.toString(),
        topics,
        data: bytesToHex(data),
        position: bigIntToHex(BigInt(frame.calls?.length ?? 0)),
      })
    }
    if (code === 0xff && !this.opts.onlyTopCall) {
      const beneficiary = createAddressFromBigInt(s.stack[s.stack.length - 1])
      const balance = (await s.stateManager.getAccount(s.address))?.balance ?? 0n
      frame.calls ??= []
      frame.calls.push({
        type: 'SELFDESTRUCT',
        from: s.address.toString(),
        to: beneficiary.toString(),
        value: bigIntToHex(balance),
        gas: '0x0',
        gasUsed: '0x0',
        input: '0x',
      })
    }
  }

  enter(msg: Message): void {
    this.budget.take(hexSize(msg.data.length) + 300)
    const isCreate = msg.to === undefined
    let type = isCreate ? (msg.salt ? 'CREATE2' : 'CREATE') : 'CALL'
    if (msg.depth > 0) type = CALL_OPS[this.lastOp[msg.depth - 1]] ?? type
    const frame: CallFrame = {
      type,
      from: msg.caller.toString(),
      to: msg.to?.toString(),
      value: type === 'STATICCALL' ? undefined : bigIntToHex(msg.value),
      gas: bigIntToHex(msg.gasLimit),
      gasUsed: '0x0',
      input: this.budget.over ? '0x' : bytesToHex(msg.data),
    }
    if (type === 'DELEGATECALL' || type === 'CALLCODE') frame.to = (msg._codeAddress ?? msg.to)?.toString()
    if (type === 'DELEGATECALL') frame.from = msg.to?.toString() ?? frame.from
    const parent = this.stack[this.stack.length - 1]
    if (parent && !this.opts.onlyTopCall) {
      parent.calls ??= []
      parent.calls.push(frame)
    }
    if (!this.root) this.root = frame
    this.stack.push(frame)
  }

  exit(result: EVMResult): void {
    const frame = this.stack.pop()
    if (!frame) return
    const r = result.execResult
    frame.gasUsed = bigIntToHex(r.executionGasUsed)
    if (result.createdAddress) frame.to = result.createdAddress.toString()
    if (r.returnValue.length > 0 && this.budget.take(hexSize(r.returnValue.length))) {
      frame.output = bytesToHex(r.returnValue)
    }
    if (r.exceptionError) {
      frame.error = gethError(r.exceptionError.error)
      if (r.exceptionError.error === 'revert') {
        const reason = decodeRevertReason(r.returnValue)
        if (reason) frame.revertReason = reason
      } else {
        delete frame.output
      }
      // geth drops the logs of frames that failed
      if (frame.logs) delete frame.logs
    }
  }

  finish(tx: TypedTransaction, ev: AfterTxEvent): CallFrame {
    if (this.budget.over) throw overBudget()
    const root = this.root ?? {
      type: tx.to ? 'CALL' : 'CREATE',
      from: tx.getSenderAddress().toString(),
      to: tx.to?.toString(),
      value: bigIntToHex(tx.value),
      gas: bigIntToHex(tx.gasLimit),
      gasUsed: '0x0',
      input: bytesToHex(tx.data),
    }
    // the top call reports the transaction's gas limit and all the gas it used (intrinsic included)
    root.gas = bigIntToHex(tx.gasLimit)
    root.gasUsed = bigIntToHex(ev.totalGasSpent)
    return orderFrame(root)
  }
}

/** geth's field order, so that JSON output reads the same. */
function orderFrame(f: CallFrame): CallFrame {
  const out: CallFrame = { from: f.from, gas: f.gas, gasUsed: f.gasUsed } as CallFrame
  if (f.to !== undefined) out.to = f.to
  out.input = f.input
  if (f.output !== undefined) out.output = f.output
  if (f.error !== undefined) out.error = f.error
  if (f.revertReason !== undefined) out.revertReason = f.revertReason
  if (f.logs && f.logs.length > 0) out.logs = f.logs
  if (f.calls && f.calls.length > 0) out.calls = f.calls.map(orderFrame)
  if (f.value !== undefined) out.value = f.value
  out.type = f.type
  return out
}

export function makeTracer(opts: TraceOpts, budget: TraceBudget): Tracer {
  if (opts.tracer === 'callTracer') return new CallTracer(opts.tracerConfig ?? {}, budget)
  return new StructLogger(opts, budget)
}

export function overBudget(): TraceError {
  return new TraceError(
    `the trace is over the ${TRACE_LIMITS.maxBytes}-byte limit of one trace request: trace a single transaction, without enableMemory/enableReturnData, or with the callTracer`,
  )
}

/**
 * Re-execute `block` on its parent's state and trace its transactions (all of them, or only
 * the one at `onlyIndex`). Nothing is written to the chain.
 */
export async function traceBlock(
  chain: Chain,
  block: Block,
  opts: TraceOpts,
  onlyIndex?: number,
): Promise<{ txHash: string; result: TxTrace }[]> {
  if (block.header.number === 0n) throw new TraceError('genesis is not traceable')
  // impersonated transactions (devnet) run as their senders, not as what their placeholder signature recovers to
  block = withImpersonatedSenders(block)
  const parent = await chain.getBlockByHash(block.header.parentHash)
  if (!parent) throw new TraceError(`parent of block ${block.header.number} not found`)
  // a sandbox: re-executing writes trie nodes, and those must not reach the database
  const vm = await sandboxVM(chain, parent)
  // the block's inference-root system call (docs/proofs.md), as block building and import made it
  await applyInferenceRoot(vm, parent.header.number, await chain.inferenceRootOf(parent))
  const preState = await vm.stateManager.getStateRoot()
  const out: { txHash: string; result: TxTrace }[] = []
  let index = -1
  let tracer: Tracer | undefined
  const budget = new TraceBudget()
  vm.events.on('beforeTx', (_tx: TypedTransaction, resolve?: (r?: unknown) => void) => {
    index++
    // once over the limit nothing more is traced; the request is refused when the block has run
    tracer = (onlyIndex === undefined || onlyIndex === index) && !budget.over ? makeTracer(opts, budget) : undefined
    resolve?.()
  })
  vm.events.on('afterTx', (ev: AfterTxEvent, resolve?: (r?: unknown) => void) => {
    const tx = block.transactions[index]
    if (tracer && !budget.over) {
      try {
        out.push({ txHash: bytesToHex(tx.hash()), result: tracer.finish(tx, ev) })
      } catch {
        // over the limit: reported below
      }
    }
    tracer = undefined
    resolve?.()
  })
  vm.evm.events!.on('step', (s: InterpreterStep, resolve?: (r?: unknown) => void) => {
    if (!tracer) return resolve?.()
    tracer.step(s).then(
      () => resolve?.(),
      () => resolve?.(),
    )
  })
  vm.evm.events!.on('beforeMessage', (m: Message, resolve?: (r?: unknown) => void) => {
    tracer?.enter(m)
    resolve?.()
  })
  vm.evm.events!.on('afterMessage', (r: EVMResult, resolve?: (r?: unknown) => void) => {
    tracer?.exit(r)
    resolve?.()
  })
  await runBlock(vm, {
    block,
    root: preState,
    setHardfork: true,
    skipBlockValidation: true,
    skipHeaderValidation: true,
    // the block is already part of the chain: no need to re-check what it claims
    generate: true,
  })
  await assertCheckpointDepth(vm, `tracing block ${block.header.number}`)
  if (budget.over) {
    out.length = 0
    throw overBudget()
  }
  return out
}

/** Trace one transaction of the canonical chain. */
export async function traceTransaction(chain: Chain, txHash: Uint8Array, opts: TraceOpts): Promise<TxTrace> {
  const loc = await chain.getTransaction(txHash)
  if (!loc) throw new TraceError('transaction not found')
  const [r] = await traceBlock(chain, loc.block, opts, loc.index)
  if (!r || !equalsBytes(loc.tx.hash(), txHash)) throw new TraceError('transaction not found')
  return r.result
}
