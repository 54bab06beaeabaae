import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WebSocket } from 'ws'
import { WebSocketServer } from 'ws'
import type { CallLimitOpts } from '../chain/call-limits.ts'
import type { LatticeNode } from '../chain/node.ts'
import { serveExplorer } from '../explorer/serve.ts'
import { readBody } from '../http-body.ts'
import type { AdminPeering } from './admin.ts'
import { adminMethods } from './admin.ts'
import { debugMethods } from './debug.ts'
import { devMethods } from './dev.ts'
import { createDispatcher } from './dispatch.ts'
import { RpcCode } from './errors.ts'
import { ethMethods } from './eth.ts'
import { ethExtraMethods } from './eth-extra.ts'
import type { FastPath } from './fast-http.ts'
import { installFastPath } from './fast-http.ts'
import { FilterManager } from './filters.ts'
import { frameRequest } from './framing.ts'
import type { LatticeRpcDeps } from './lattice.ts'
import { latticeMethods } from './lattice.ts'
import { CallLimiter } from './limits.ts'
import { netMethods } from './net.ts'
import type { NodeMetrics } from './node-metrics.ts'
import { otsMethods } from './ots.ts'
import { pinnerMethods } from './pinner.ts'
import { proofMethods } from './proofs.ts'
import { subscriptionMethods } from './subscriptions.ts'
import { txpoolMethods } from './txpool.ts'
import type { Handlers, RequestContext } from './types.ts'
import { web3Methods } from './web3.ts'

/** Options for {@link startRpcServer}. Defaults: 127.0.0.1:8545, 5 MiB bodies, 1000 calls per batch. */
export interface RpcServerOpts {
  node: LatticeNode
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** Devnet mode: unlocked dev accounts (eth_sendTransaction) and the evm_* methods. */
  devnet: boolean
  clientVersion: string
  maxBodyBytes?: number
  maxBatch?: number
  /** Extra namespaces (lattice_*, debug_*) contributed by other modules. */
  extraMethods?: Handlers
  /** Serve lattice_* (the model workflow) with these dependencies. */
  lattice?: LatticeRpcDeps
  /** Serve the explorer page at GET /explorer (default true; `--no-explorer` turns it off). */
  explorer?: boolean
  /**
   * `--rpc.gascap` / `--rpc.evmtimeout` for eth_call, eth_estimateGas, eth_simulateV1, lattice_infer (limits.ts).
   * Without it: 50M gas and no time limit (embedders, tests); the CLI passes its flags, 5 s by default as geth.
   */
  callLimits?: CallLimitOpts
  /** Count requests and latency per method (`--metrics`). */
  metrics?: NodeMetrics
  /** Serve admin_* (and the real net_peerCount) over the node's peering (`--p2p.port`, `--bootnodes`). */
  admin?: AdminPeering
  /**
   * Answer complete keep-alive POSTs in front of node:http (fast-http.ts; default true). False: node:http
   * alone, the reference the fast path's bytes are tested against.
   */
  fastPath?: boolean
}

export interface RpcServer {
  url: string
  wsUrl: string
  port: number
  host: string
  /** Every method name served. */
  methods: string[]
  /** Requests the fast path answered (0 with `fastPath: false`). */
  readonly fastAnswered: number
  /**
   * Answer one JSON-RPC body (a request or a batch) as an HTTP POST of it is answered, without HTTP: the response
   * text, '' when only notifications were sent. For benches that separate the JSON-RPC stack from the transport.
   */
  answer(body: Uint8Array): Promise<string>
  close(): Promise<void>
}

/** Serve JSON-RPC over HTTP and WebSocket on one port. */
export async function startRpcServer(opts: RpcServerOpts): Promise<RpcServer> {
  const host = opts.host ?? '127.0.0.1'
  const maxBody = opts.maxBodyBytes ?? 5 * 1024 * 1024
  const maxBatch = opts.maxBatch ?? 1000
  const filters = new FilterManager(opts.node)
  const handlers: Handlers = {
    ...web3Methods(opts.clientVersion),
    ...netMethods(opts.node),
    ...ethMethods(opts.node, filters, { devnet: opts.devnet }),
    ...txpoolMethods(opts.node),
    ...ethExtraMethods(opts.node),
    ...debugMethods(opts.node),
    ...subscriptionMethods(opts.node),
    ...(opts.devnet ? devMethods(opts.node, opts.clientVersion) : {}),
    ...(opts.lattice ? latticeMethods(opts.lattice) : {}),
    ...proofMethods(opts.node),
    ...pinnerMethods(opts.node),
    ...otsMethods(opts.node),
    ...(opts.admin ? adminMethods(opts.admin) : {}),
    ...opts.extraMethods,
  }
  const limiter = new CallLimiter(opts.callLimits ?? { timeoutMs: 0 })
  const limited = limiter.wrap(handlers)
  const runOne = createDispatcher(opts.metrics ? opts.metrics.instrumentHandlers(limited) : limited, { maxBatch })

  /** Answer one body (framing.ts: depth limit, batches entry by entry); '' for notifications only. */
  function dispatch(body: Uint8Array, ctx: RequestContext): Promise<string> {
    return frameRequest(body, (request) => runOne(request, ctx), { maxBatch })
  }

  const http: Server = createServer((req, res) => {
    if (req.method === 'POST') {
      handlePost(req, res)
      return
    }
    handleOther(req, res).catch(() => fail(res))
  })
  http.requestTimeout = 120_000
  const fast: FastPath | undefined =
    opts.fastPath === false
      ? undefined
      : installFastPath(http, {
          maxBody,
          answer: (body) => dispatch(body, EMPTY_CONTEXT),
          jsonHeaders: JSON_HEADERS,
          emptyHeaders: CORS,
        })

  /**
   * A JSON-RPC call: no async function, no setHeader (each one validates and stores a header in a map that
   * writeHead then merges), and one writeHead with the whole header list (issue 17: per-request cost).
   */
  function handlePost(req: IncomingMessage, res: ServerResponse): void {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > maxBody) {
      tooLarge(res)
      req.resume()
      return
    }
    readBody(req, maxBody, (body, err) => {
      if (err) return fail(res)
      if (!body) {
        tooLarge(res)
        req.destroy()
        return
      }
      dispatch(body, EMPTY_CONTEXT).then(
        (text) => send(res, text),
        () => fail(res),
      )
    })
  }

  async function handleOther(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (let i = 0; i < CORS.length; i += 2) res.setHeader(CORS[i] as string, CORS[i + 1] as string)
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end()
      return
    }
    if (req.method === 'GET' && opts.explorer !== false && (await serveExplorer(req, res))) return
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Lattice JSON-RPC: POST JSON-RPC 2.0 requests here\n')
      return
    }
    res.writeHead(405, { allow: 'POST, GET, OPTIONS' }).end()
  }

  function fail(res: ServerResponse): void {
    if (!res.headersSent) res.writeHead(500, CORS)
    res.end()
  }

  function tooLarge(res: ServerResponse): void {
    res.writeHead(413, [...JSON_HEADERS, 'connection', 'close'])
    res.end(errorText(RpcCode.invalidRequest, `request body too large: the limit is ${maxBody} bytes`))
  }

  function send(res: ServerResponse, text: string): void {
    if (text === '') {
      res.writeHead(200, CORS).end()
      return
    }
    // a known length: no chunked framing, and headers and body leave in one write instead of a writev of four
    res.writeHead(200, [...JSON_HEADERS, 'content-length', String(Buffer.byteLength(text))]).end(text)
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody })
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', async (raw) => {
      const body = Array.isArray(raw) ? Buffer.concat(raw) : raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw
      const text = await dispatch(body, { ws })
      if (text !== '' && ws.readyState === ws.OPEN) ws.send(text)
    })
    ws.on('error', () => ws.terminate())
  })

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(opts.port ?? 8545, host, () => resolve())
  })
  const port = (http.address() as AddressInfo).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}`,
    wsUrl: `ws://${shownHost}:${port}`,
    port,
    host,
    methods: Object.keys(handlers).sort(),
    get fastAnswered() {
      return fast?.answered ?? 0
    },
    answer: (body) => dispatch(body, EMPTY_CONTEXT),
    close: async () => {
      limiter.abortAll()
      filters.close()
      for (const c of wss.clients) c.terminate()
      wss.close()
      fast?.closeAll()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

/** Sent with every answer (browser dapps call the node from other origins); names as they have always been sent. */
const CORS: string[] = [
  'Access-Control-Allow-Origin',
  '*',
  'Access-Control-Allow-Headers',
  '*',
  'Access-Control-Allow-Methods',
  'POST, GET, OPTIONS',
]
const JSON_HEADERS: string[] = [...CORS, 'content-type', 'application/json']
/** HTTP requests carry no per-request context; one frozen object serves them all. */
const EMPTY_CONTEXT: RequestContext = Object.freeze({})

function errorText(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } })
}
