import type { WebSocket } from 'ws'

/** Per-request context: the WebSocket connection when the request came over one. */
export interface RequestContext {
  ws?: WebSocket
}

/** A JSON-RPC method handler: positional params in, JSON-serialisable result out. */
export type Handler = (params: unknown, ctx: RequestContext) => Promise<unknown>

export type Handlers = Record<string, Handler>
