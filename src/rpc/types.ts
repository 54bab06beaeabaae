import type { WebSocket } from 'ws'
import type { CallLimits } from '../chain/call-limits.ts'

/** Per-request context: the WebSocket connection when the request came over one. */
export interface RequestContext {
  ws?: WebSocket
  /** The request's call limits, for the handlers that hand them down (limits.ts `PASSED_LIMITS`). */
  callLimits?: CallLimits
}

/** A JSON-RPC method handler: positional params in, JSON-serialisable result out. */
export type Handler = (params: unknown, ctx: RequestContext) => Promise<unknown>

export type Handlers = Record<string, Handler>
