// The Engine API server: JSON-RPC 2.0 over HTTP on its own port (geth's authrpc, 8551 by default), every request
// authenticated with an HS256 JWT (jwt.ts). Only engine_* methods are served here.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LatticeNode } from '../chain/node.ts'
import { PayloadBuilder } from '../chain/payload-builder.ts'
import { errorMessage, LatticeError } from '../errors.ts'
import { readBodyWithin } from '../http-body.ts'
import { EngineCode, EngineError, EngineMethodNotFoundError } from './errors.ts'
import { verifyJwt } from './jwt.ts'
import type { EngineContext, EngineHandlers } from './methods/context.ts'
import { forkchoiceMethods } from './methods/forkchoice.ts'
import { miscMethods } from './methods/misc.ts'
import { payloadMethods } from './methods/payload.ts'

/** Options for {@link startEngineServer}. Defaults: 127.0.0.1:8551, 16 MiB bodies, 100 calls per batch. */
export interface EngineServerOpts {
  node: LatticeNode
  /** The shared secret (32 bytes) the consensus client signs its tokens with. */
  jwtSecret: Uint8Array
  host?: string
  /** 0 picks a free port. Default 8551. */
  port?: number
  clientVersion: string
  /** A line for the node's log (invalid payloads, left-out transactions). */
  log?: (line: string) => void
  maxBodyBytes?: number
  maxBatch?: number
  /** More methods on the same port (the eth_* subset the specification lists; src/cli/engine-eth.ts). */
  extraMethods?: EngineHandlers
}

export interface EngineServer {
  url: string
  port: number
  host: string
  /** Every method served. */
  methods: string[]
  /** The payload builder behind forkchoiceUpdated/getPayload. */
  builder: PayloadBuilder
  close(): Promise<void>
}

/** Every engine_* method, bound to `ctx`. */
export function engineMethods(ctx: EngineContext): EngineHandlers {
  const handlers: EngineHandlers = {}
  Object.assign(
    handlers,
    payloadMethods(ctx),
    forkchoiceMethods(ctx),
    miscMethods(ctx, () => served),
  )
  // exchangeCapabilities answers with what this node serves, itself excluded (as the specification asks)
  const served = Object.keys(handlers)
    .filter((m) => m.startsWith('engine_') && m !== 'engine_exchangeCapabilities')
    .sort()
  return handlers
}

/** The one place where thrown errors become JSON-RPC errors. */
function toError(err: unknown): { code: number; message: string } {
  if (err instanceof EngineError) return { code: err.rpcCode, message: err.shortMessage }
  if (err instanceof LatticeError) return { code: EngineCode.serverError, message: err.shortMessage }
  return { code: EngineCode.internal, message: errorMessage(err) }
}

const reply = (id: unknown, body: object) => ({ jsonrpc: '2.0', id: id ?? null, ...body })

/** Serve the Engine API. */
export async function startEngineServer(opts: EngineServerOpts): Promise<EngineServer> {
  const host = opts.host ?? '127.0.0.1'
  const maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024
  const maxBatch = opts.maxBatch ?? 100
  const log = opts.log ?? (() => {})
  const builder = new PayloadBuilder({ chain: opts.node.chain, pool: opts.node.pool, log })
  const handlers = {
    ...opts.extraMethods,
    ...engineMethods({ node: opts.node, builder, log, clientVersion: opts.clientVersion }),
  }

  async function runOne(req: unknown): Promise<object | undefined> {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      return reply(null, { error: { code: EngineCode.invalidRequest, message: 'invalid request' } })
    }
    const r = req as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown }
    const isNotification = !('id' in r)
    if (r.jsonrpc !== '2.0' || typeof r.method !== 'string') {
      return reply(r.id, { error: { code: EngineCode.invalidRequest, message: 'invalid request' } })
    }
    let out: object
    try {
      const fn = Object.hasOwn(handlers, r.method) ? handlers[r.method] : undefined
      if (!fn) throw new EngineMethodNotFoundError(r.method)
      const result = await fn(r.params)
      out = reply(r.id, { result: result === undefined ? null : result })
    } catch (err) {
      if (!(err instanceof EngineError)) log(`engine: ${r.method} failed: ${errorMessage(err)}`)
      out = reply(r.id, { error: toError(err) })
    }
    return isNotification ? undefined : out
  }

  async function dispatch(text: string): Promise<string> {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return JSON.stringify(reply(null, { error: { code: EngineCode.parseError, message: 'parse error' } }))
    }
    if (!Array.isArray(parsed)) {
      const one = await runOne(parsed)
      return one ? JSON.stringify(one) : ''
    }
    if (parsed.length === 0 || parsed.length > maxBatch) {
      const message = parsed.length === 0 ? 'empty batch' : `batch of ${parsed.length} exceeds the limit of ${maxBatch}`
      return JSON.stringify(reply(null, { error: { code: EngineCode.invalidRequest, message } }))
    }
    // in order: a batch of newPayload calls builds on itself
    const out: object[] = []
    for (const req of parsed) {
      const r = await runOne(req)
      if (r) out.push(r)
    }
    return out.length > 0 ? JSON.stringify(out) : ''
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end()
      req.resume()
      return
    }
    try {
      verifyJwt(req.headers.authorization, opts.jwtSecret)
    } catch (err) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`${errorMessage(err)}\n`)
      req.resume()
      return
    }
    const body = await readBodyWithin(req, maxBody)
    if (!body) {
      res.writeHead(413, { connection: 'close' }).end()
      req.destroy()
      return
    }
    const text = await dispatch(body.toString('utf8'))
    if (text === '') res.writeHead(200).end()
    else res.writeHead(200, { 'content-type': 'application/json' }).end(text)
  }

  const http: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(opts.port ?? 8551, host, () => resolve())
  })
  const port = (http.address() as AddressInfo).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}`,
    port,
    host,
    methods: Object.keys(handlers).sort(),
    builder,
    close: async () => {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
