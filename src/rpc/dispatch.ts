// Running one JSON-RPC request object against the handler map. A well-formed call of a known method with a
// string or number id (nearly every request a client sends) goes straight to its handler; everything else
// (notifications, unknown methods, malformed objects) goes through jayson, which has always answered those,
// so their responses stay exactly as they were. Why: jayson's per-call machinery (request validation, a router
// lookup, Method.execute with its argument arrays, the 'request'/'response' events, a callback chain wrapped in
// a promise) cost ~10 µs of the ~130 µs of process CPU an eth_chainId took (issue 17), more than the method.
import jayson from 'jayson'
import { RpcCode, toRpcError } from './errors.ts'
import type { Handler, Handlers, RequestContext } from './types.ts'

/**
 * Answers one request object (never an array): its response object, or undefined for a notification. It never
 * rejects for an error a handler raises: that is an error response.
 */
export type RunOne = (request: object, ctx: RequestContext) => Promise<unknown>

/** Options for {@link createDispatcher}. */
export interface DispatcherOpts {
  /** jayson's batch limit; framing.ts refuses longer batches before they get here. */
  maxBatch: number
}

interface WireRequest {
  jsonrpc?: unknown
  id?: unknown
  method?: unknown
  params?: unknown
}

interface WireError {
  code: number
  message: string
  data?: unknown
}

/** jayson's test for an error it passes on as given (`Utils.Response.isValidError`); others become -32603. */
function isValidError(e: unknown): e is WireError {
  const err = e as WireError | null | undefined
  return !!err && typeof err.code === 'number' && Number.isInteger(err.code) && typeof err.message === 'string'
}

/** The map's own handler for `method`; undefined for inherited names (`constructor`, `__proto__`). */
function ownHandler(handlers: Handlers, method: string): Handler | undefined {
  return Object.hasOwn(handlers, method) ? handlers[method] : undefined
}

/** A {@link RunOne} over `handlers`: the direct path for ordinary calls, jayson for the rest. */
export function createDispatcher(handlers: Handlers, opts: DispatcherOpts): RunOne {
  const jaysonMethods: Record<string, jayson.Method> = {}
  for (const [name, fn] of Object.entries(handlers)) {
    jaysonMethods[name] = new jayson.Method(
      (params: unknown, ctx: RequestContext, cb: (err: any, res?: unknown) => void) => {
        fn(params, ctx).then(
          (res) => cb(null, res === undefined ? null : res),
          (err) => cb(toRpcError(err)),
        )
      },
      { useContext: true },
    )
  }
  const rpc = new jayson.Server(jaysonMethods, { useContext: true, maxBatchLength: opts.maxBatch })

  function viaJayson(request: object, ctx: RequestContext): Promise<unknown> {
    return new Promise((resolve) => {
      rpc.call(request as jayson.JSONRPCRequestLike, ctx, (err: unknown, res: unknown) => resolve(err ?? res))
    })
  }

  return (request, ctx) => {
    const r = request as WireRequest
    const id = r.id
    const params = r.params
    const fn =
      r.jsonrpc === '2.0' && typeof r.method === 'string' && (typeof id === 'string' || typeof id === 'number')
        ? ownHandler(handlers, r.method)
        : undefined
    // the same request test as jayson's isValidVersionTwoRequest, for the requests taken off its path
    if (!fn || (params !== undefined && (params === null || typeof params !== 'object'))) return viaJayson(request, ctx)
    let pending: Promise<unknown>
    try {
      pending = fn(params, ctx)
    } catch (err) {
      // a handler that throws before returning its promise answers like one that rejects
      pending = Promise.reject(err)
    }
    return pending.then(
      (result) => ({ jsonrpc: '2.0', id, result: result === undefined ? null : result }),
      (err) => {
        const error = toRpcError(err)
        return {
          jsonrpc: '2.0',
          id,
          error: isValidError(error) ? error : { code: RpcCode.internal, message: 'Internal error' },
        }
      },
    )
  }
}
