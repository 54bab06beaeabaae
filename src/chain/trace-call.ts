// debug_traceCall: trace a call (geth's struct logger or callTracer) on the state of a block, with state
// overrides, in a sandbox VM whose writes never reach the database.
import type { Block } from '@ethereumjs/block'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import type { AfterTxEvent } from '@ethereumjs/vm'
import { LatticeError } from '../errors.ts'
import type { CallRequest } from './calls.ts'
import { callTx, runCallTx } from './calls.ts'
import type { Chain } from './chain.ts'
import { assertCheckpointDepth } from './checkpoints.ts'
import { shortEjsMessage } from './ejs-message.ts'
import { ExecutionFailedError } from './errors.ts'
import type { StateOverride } from './overrides.ts'
import { applyAccountOverrides } from './overrides.ts'
import { sandboxVM } from './sandbox.ts'
import type { TraceOpts, TxTrace } from './trace.ts'
import { makeTracer, overBudget, TraceBudget } from './trace.ts'

/** Trace `req` as a call on the post-state of `block` (geth's debug_traceCall). */
export async function traceCall(
  chain: Chain,
  req: CallRequest,
  block: Block,
  opts: TraceOpts,
  overrides?: Map<string, StateOverride>,
): Promise<TxTrace> {
  const vm = await sandboxVM(chain, block)
  if (overrides) await applyAccountOverrides(vm.stateManager, overrides)
  const tx = await callTx(chain, req, block, vm)
  const budget = new TraceBudget()
  const tracer = makeTracer(opts, budget)
  let out: TxTrace | undefined
  vm.events.on('afterTx', (ev: AfterTxEvent, resolve?: (r?: unknown) => void) => {
    try {
      if (!budget.over) out = tracer.finish(tx, ev)
    } catch {
      // over the limit: reported below
    }
    resolve?.()
  })
  vm.evm.events!.on('step', (s: InterpreterStep, resolve?: (r?: unknown) => void) => {
    tracer.step(s).then(
      () => resolve?.(),
      () => resolve?.(),
    )
  })
  vm.evm.events!.on('beforeMessage', (m: Message, resolve?: (r?: unknown) => void) => {
    tracer.enter(m)
    resolve?.()
  })
  vm.evm.events!.on('afterMessage', (r: EVMResult, resolve?: (r?: unknown) => void) => {
    tracer.exit(r)
    resolve?.()
  })
  try {
    await runCallTx(vm, tx, req, block)
  } catch (err) {
    if (err instanceof LatticeError) throw err
    throw new ExecutionFailedError(shortEjsMessage(err))
  }
  await assertCheckpointDepth(vm, 'tracing a call')
  if (budget.over || !out) throw overBudget()
  return out
}
