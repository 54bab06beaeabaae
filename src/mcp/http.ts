// Streamable HTTP transport: POST/GET/DELETE on /mcp of a server bound to 127.0.0.1 (a local agent's port,
// never exposed), one stateful session per client so each can receive resources/list_changed.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import type { McpHub } from './server.ts'

/** Options for {@link startMcpHttp}. */
export interface McpHttpOpts {
  hub: McpHub
  /** 0 picks a free port. */
  port: number
  /** Default 127.0.0.1. */
  host?: string
  onError?: (err: unknown) => void
}

/** A listening HTTP MCP endpoint. */
export interface McpHttp {
  url: string
  close(): Promise<void>
}

/** Largest request body accepted (input tensors travel inline). */
const MAX_BODY = 16 * 1024 * 1024

/** Serve the hub's sessions over streamable HTTP at `http://host:port/mcp`. */
export async function startMcpHttp(opts: McpHttpOpts): Promise<McpHttp> {
  const host = opts.host ?? '127.0.0.1'
  const sessions = new Map<string, StreamableHTTPServerTransport>()
  let allowedHosts: string[] = []

  const reply = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }))
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on another origin reaches 127.0.0.1 only under its own host name
    if (!allowedHosts.includes(String(req.headers.host))) return reply(res, 403, `Host ${req.headers.host} not allowed`)
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') return reply(res, 404, 'MCP lives at /mcp')
    const sid = req.headers['mcp-session-id']
    const existing = typeof sid === 'string' ? sessions.get(sid) : undefined
    if (req.method !== 'POST') {
      if (!existing) return reply(res, 400, 'No session: initialize with a POST first')
      return existing.handleRequest(req, res)
    }
    const body = await readJson(req)
    if (body === undefined) return reply(res, 400, 'The request body is not JSON')
    if (existing) return existing.handleRequest(req, res, body)
    if (!isInitializeRequest(body)) return reply(res, 400, 'No session: send initialize first')
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport)
      },
      enableDnsRebindingProtection: true,
      allowedHosts,
    })
    const server = opts.hub.session()
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId)
      void server.close()
    }
    await server.connect(transport)
    await transport.handleRequest(req, res, body)
  }

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      opts.onError?.(err)
      if (!res.headersSent) reply(res, 500, 'internal error')
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(opts.port, host, () => resolve())
  })
  const { port } = http.address() as AddressInfo
  allowedHosts = [`${host}:${port}`, `localhost:${port}`]
  return {
    url: `http://${host}:${port}/mcp`,
    async close() {
      await Promise.all([...sessions.values()].map((t) => t.close().catch(() => {})))
      sessions.clear()
      await new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      })
    },
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BODY) return undefined
    chunks.push(c as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return undefined
  }
}
