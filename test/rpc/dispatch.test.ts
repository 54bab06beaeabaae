import jayson from 'jayson'
import { describe, expect, it } from 'vitest'
import { createDispatcher } from '../../src/rpc/dispatch.ts'
import { RpcError, toRpcError } from '../../src/rpc/errors.ts'
import type { Handlers, RequestContext } from '../../src/rpc/types.ts'

const handlers: Handlers = {
  echo: async (params) => params,
  nothing: async () => undefined,
  nullish: async () => null,
  zero: async () => 0,
  rpcError: async () => {
    throw new RpcError(-32602, 'invalid argument 0: nope', { why: 'because' })
  },
  bug: async () => {
    throw new TypeError('x is undefined')
  },
  context: async (_params, ctx) => (ctx.ws ? 'ws' : 'http'),
}

/** The server as it was before the direct path: every request through jayson (src/rpc/server.ts, e0d7b83). */
function jaysonOnly(hs: Handlers) {
  const methods: Record<string, jayson.Method> = {}
  for (const [name, fn] of Object.entries(hs)) {
    methods[name] = new jayson.Method(
      (params: unknown, ctx: RequestContext, cb: (err: any, res?: unknown) => void) => {
        fn(params, ctx).then(
          (res) => cb(null, res === undefined ? null : res),
          (err) => cb(toRpcError(err)),
        )
      },
      { useContext: true },
    )
  }
  const server = new jayson.Server(methods, { useContext: true, maxBatchLength: 1000 })
  return (request: object, ctx: RequestContext) =>
    new Promise<unknown>((resolve) =>
      server.call(request as any, ctx, (err: unknown, res: unknown) => resolve(err ?? res)),
    )
}

const REQUESTS: object[] = [
  { jsonrpc: '2.0', id: 1, method: 'echo', params: [1, 'a', { b: null }] },
  { jsonrpc: '2.0', id: 'abc', method: 'echo', params: { named: true } },
  { jsonrpc: '2.0', id: 0, method: 'echo' },
  { jsonrpc: '2.0', id: -7.5, method: 'echo', params: [] },
  { jsonrpc: '2.0', id: 2, method: 'nothing', params: [] },
  { jsonrpc: '2.0', id: 3, method: 'nullish', params: [] },
  { jsonrpc: '2.0', id: 4, method: 'zero', params: [] },
  { jsonrpc: '2.0', id: 5, method: 'rpcError', params: [] },
  { jsonrpc: '2.0', id: 6, method: 'bug', params: [] },
  { jsonrpc: '2.0', id: 7, method: 'context', params: [] },
  // off the direct path: jayson answers these, as it always has
  { jsonrpc: '2.0', id: 8, method: 'missing', params: [] },
  { jsonrpc: '2.0', id: 9, method: 'constructor', params: [] },
  { jsonrpc: '2.0', id: 10, method: '__proto__', params: [] },
  { jsonrpc: '2.0', id: 11, method: 'toString', params: [] },
  { jsonrpc: '2.0', id: 12, method: 'echo', params: null },
  { jsonrpc: '2.0', id: 13, method: 'echo', params: 'str' },
  { jsonrpc: '2.0', id: 14, method: 'echo', params: 5 },
  { jsonrpc: '2.0', id: null, method: 'echo', params: [] },
  { jsonrpc: '2.0', method: 'echo', params: [] },
  { jsonrpc: '2.0', id: { o: 1 }, method: 'echo', params: [] },
  { jsonrpc: '2.0', id: [1], method: 'echo', params: [] },
  { jsonrpc: '2.0', id: true, method: 'echo', params: [] },
  { jsonrpc: '1.0', id: 15, method: 'echo', params: [] },
  { id: 16, method: 'echo', params: [] },
  { jsonrpc: '2.0', id: 17, method: 5, params: [] },
  { jsonrpc: '2.0', id: 18 },
  {},
]

describe('createDispatcher', () => {
  const direct = createDispatcher(handlers, { maxBatch: 1000 })
  const reference = jaysonOnly(handlers)

  it.each(REQUESTS.map((r) => [JSON.stringify(r), r]))('answers %s exactly as jayson did', async (_, request) => {
    for (const ctx of [{}, { ws: {} as RequestContext['ws'] }]) {
      const ours = await direct(structuredClone(request), ctx)
      const theirs = await reference(structuredClone(request), ctx)
      // the text a client receives: same keys, same order, same values
      expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs))
    }
  })

  it('passes the very params object and context to the handler', async () => {
    let seen: [unknown, RequestContext] | undefined
    const run = createDispatcher(
      {
        spy: async (params, ctx) => {
          seen = [params, ctx]
          return 1
        },
      },
      { maxBatch: 10 },
    )
    const params = [{ to: '0x00' }]
    const ctx: RequestContext = {}
    expect(await run({ jsonrpc: '2.0', id: 1, method: 'spy', params }, ctx)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: 1,
    })
    expect(seen?.[0]).toBe(params)
    expect(seen?.[1]).toBe(ctx)
  })

  it('answers a handler that throws before returning its promise with an error, not a rejection', async () => {
    const run = createDispatcher(
      {
        sync: (() => {
          throw new RpcError(-32602, 'bad')
        }) as unknown as Handlers[string],
      },
      { maxBatch: 10 },
    )
    expect(await run({ jsonrpc: '2.0', id: 1, method: 'sync', params: [] }, {})).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32602, message: 'bad' },
    })
  })

  it('runs a notification and answers nothing', async () => {
    let ran = false
    const run = createDispatcher(
      {
        note: async () => {
          ran = true
          return 1
        },
      },
      { maxBatch: 10 },
    )
    expect(await run({ jsonrpc: '2.0', method: 'note', params: [] }, {})).toBeUndefined()
    expect(ran).toBe(true)
  })
})
