// src/scoped-context.ts: the context follows a run across awaits, concurrent runs keep their own, and the store
// is disabled (Node 20/22: the process-wide promise hooks off) once the last run settles.
import { describe, expect, it } from 'vitest'
import { ScopedContext } from '../src/scoped-context.ts'

const tick = () => new Promise((r) => setTimeout(r, 1))

describe('ScopedContext', () => {
  it('keeps each run its context across awaits and switches the store off after the last one', async () => {
    const ctx = new ScopedContext<string>()
    const seen: (string | undefined)[] = []
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    const a = ctx.run('a', async () => {
      await tick()
      seen.push(ctx.getStore())
      await held
      seen.push(ctx.getStore())
    })
    const b = ctx.run('b', async () => {
      await tick()
      seen.push(ctx.getStore())
    })
    await b
    expect(ctx.inFlight).toBe(1)
    // still on while `a` runs
    if (ctx.enabled !== undefined) expect(ctx.enabled).toBe(true)
    release()
    await a
    expect(seen).toEqual(['a', 'b', 'a'])
    expect(ctx.inFlight).toBe(0)
    expect(ctx.getStore()).toBeUndefined()
    // Node 20/22 (hooks-based storage): disabled, so the promise hooks can go off
    if (ctx.enabled !== undefined) expect(ctx.enabled).toBe(false)
    // and on again for the next run
    expect(await ctx.run('c', async () => ctx.getStore())).toBe('c')
  })

  it('settles on a synchronous result, a throw and a rejection', async () => {
    const ctx = new ScopedContext<number>()
    expect(ctx.run(1, () => ctx.getStore())).toBe(1)
    expect(() =>
      ctx.run(2, () => {
        throw new RangeError('x')
      }),
    ).toThrow(RangeError)
    await expect(ctx.run(3, async () => Promise.reject(new RangeError('y')))).rejects.toThrow(RangeError)
    expect(ctx.inFlight).toBe(0)
    if (ctx.enabled !== undefined) expect(ctx.enabled).toBe(false)
  })
})
