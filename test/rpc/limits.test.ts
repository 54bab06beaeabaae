// src/rpc/limits.ts: eth_call gets its limits handed down in the request context, without an AsyncLocalStorage
// context (whose promise hooks slow every promise of the process while a run lasts); the other limited methods
// still read theirs from the context. Both kinds are halted by abortAll.
import { describe, expect, it } from 'vitest'
import { CallLimits, currentCallLimits } from '../../src/chain/call-limits.ts'
import { CallLimiter } from '../../src/rpc/limits.ts'
import type { RequestContext } from '../../src/rpc/types.ts'

const tick = () => new Promise((r) => setTimeout(r, 1))

describe('CallLimiter', () => {
  it('hands eth_call its limits without a context, and gives eth_estimateGas a context', async () => {
    const seen: Record<string, { passed?: CallLimits; context?: CallLimits }> = {}
    const probe = (name: string) => async (_p: unknown, ctx: RequestContext) => {
      await tick()
      seen[name] = { passed: ctx.callLimits, context: currentCallLimits() }
      return name
    }
    const limiter = new CallLimiter({ gasCap: 123n, timeoutMs: 0 })
    const h = limiter.wrap({ eth_call: probe('eth_call'), eth_estimateGas: probe('eth_estimateGas') })
    expect(await h.eth_call([], { ws: undefined })).toBe('eth_call')
    expect(await h.eth_estimateGas([], {})).toBe('eth_estimateGas')
    expect(seen.eth_call.passed).toBeInstanceOf(CallLimits)
    expect(seen.eth_call.passed?.gasCap).toBe(123n)
    expect(seen.eth_call.context).toBeUndefined()
    expect(seen.eth_estimateGas.passed).toBeUndefined()
    expect(seen.eth_estimateGas.context?.gasCap).toBe(123n)
  })

  it('abortAll halts a handed-down eth_call: the answer is the timeout error', async () => {
    const limiter = new CallLimiter({ timeoutMs: 60_000 })
    let limits: CallLimits | undefined
    const h = limiter.wrap({
      eth_call: async (_p: unknown, ctx: RequestContext) => {
        limits = ctx.callLimits
        // what the guarded EVM does at its jumps: look at the clock until the deadline has passed
        while (!(await ctx.callLimits?.tick())) await tick()
        if (ctx.callLimits) ctx.callLimits.halted = true
        return 'ran'
      },
    })
    const answer = h.eth_call([], {})
    await tick()
    expect(limits).toBeDefined()
    limiter.abortAll()
    await expect(answer).rejects.toThrow('execution aborted')
  })
})
