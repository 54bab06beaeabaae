// The JSON-RPC server's fast path (src/rpc/fast-http.ts) against node:http alone: two servers over one devnet
// node, the same raw bytes sent to each, the answers compared byte for byte (Date masked). What the fast path
// does not answer itself must reach node:http with every byte, in order, on the same connection.
import type { Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { installFastPath, simpleRequest } from '../../src/rpc/fast-http.ts'
import type { RpcServer } from '../../src/rpc/server.ts'
import { startRpcServer } from '../../src/rpc/server.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { startTestDevnet } from '../helpers/devnet.ts'

const CALL = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
const post = (body: string, extra = '') =>
  `POST / HTTP/1.1\r\nHost: x\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

/**
 * Open a connection, send `parts` (a pause between them) and collect the answers: until the server closes, or
 * once some arrived and `quietMs` passed without more (a loaded machine can take a while for the first).
 */
function exchange(port: number, parts: string[], quietMs = 600): Promise<string> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1')
    let out = ''
    let quiet: NodeJS.Timeout | undefined
    let sent = false
    const settle = () => {
      clearTimeout(quiet)
      if (sent && out !== '') quiet = setTimeout(() => s.destroy(), quietMs)
    }
    const cap = setTimeout(() => s.destroy(), 20_000)
    s.on('data', (c) => {
      out += c.toString('latin1')
      settle()
    })
    s.on('error', () => {})
    s.on('close', () => {
      clearTimeout(quiet)
      clearTimeout(cap)
      resolve(out.replace(/Date: [^\r]*/g, 'Date: -'))
    })
    s.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50))
        s.write(p)
      }
      sent = true
      settle()
    })
  })
}

describe('fast path in front of node:http', () => {
  let devnet: TestDevnet
  let plain: RpcServer
  let fast: RpcServer

  beforeAll(async () => {
    devnet = await startTestDevnet()
    const opts = {
      node: devnet.node,
      devnet: true,
      clientVersion: 'test',
      port: 0,
      maxBodyBytes: 1000,
      // a result JSON.stringify cannot write: the server's 500
      extraMethods: { test_bigint: async () => 1n as unknown as string },
    }
    plain = await startRpcServer({ ...opts, fastPath: false })
    fast = await startRpcServer(opts)
  }, 120_000)
  afterAll(async () => {
    await plain?.close()
    await fast?.close()
    await devnet?.stop()
  })

  const cases: [string, string[]][] = [
    ['a call', [post(CALL)]],
    ['a notification (empty chunked 200)', [post('{"jsonrpc":"2.0","method":"eth_chainId"}')]],
    [
      'a batch, a parse error, an unknown method',
      [post(`[${CALL},${CALL}]`) + post('{x') + post('{"jsonrpc":"2.0","id":"a","method":"no"}')],
    ],
    ['a 500, then a call', [post('{"jsonrpc":"2.0","id":1,"method":"test_bigint"}') + post(CALL)]],
    ['a body over the limit (413), then a call', [post(`[${'1,'.repeat(600)}1]`) + post(CALL)]],
    ['a call, GET, a call', [`${post(CALL)}GET / HTTP/1.1\r\nHost: x\r\n\r\n${post(CALL)}`]],
    [
      'a call, a chunked body, a call',
      [
        `${post(CALL)}POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2]\r\n0\r\n\r\n${post(CALL)}`,
      ],
    ],
    ['Expect: 100-continue', [post(CALL, 'Expect: 100-continue\r\n') + post(CALL)]],
    ['HTTP/1.0', [post(CALL).replace('HTTP/1.1', 'HTTP/1.0')]],
    ['Connection: close, then a call', [post(CALL, 'Connection: close\r\n') + post(CALL)]],
    ['no Host (400)', ['POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}']],
    ['a path llhttp refuses', [post(CALL).replace('POST /', 'POST /a"b') + post(CALL)]],
    ['a folded header', [post(CALL, 'X-A: 1\r\n b\r\n') + post(CALL)]],
    ['two Content-Lengths', [post(CALL, 'Content-Length: 59\r\n') + post(CALL)]],
    ['header names in any case, values with spaces', [post(CALL, 'CONNECTION:  Keep-Alive \r\nX-Y: z\r\n')]],
    ['a head split across writes', [post(CALL).slice(0, 20), post(CALL).slice(20) + post(CALL)]],
    ['a body split across writes, after a call', [post(CALL) + post(CALL).slice(0, -10), post(CALL).slice(-10)]],
    ['pipelined calls', [post(CALL).repeat(20)]],
    ['header values with bytes over 0x7f, empty values', [post(CALL, 'X-A: caf\u00e9\r\nX-B:\r\n') + post(CALL)]],
    ['an empty Host', [`POST / HTTP/1.1\r\nHost:\r\nContent-Length: 2\r\n\r\n{}${post(CALL)}`]],
    ['a control character in a header value', [post(CALL, 'X-A: a\u0001b\r\n') + post(CALL)]],
  ]
  for (const [name, parts] of cases) {
    it(`answers ${name} as node:http does`, async () => {
      const [want, got] = await Promise.all([exchange(plain.port, parts), exchange(fast.port, parts)])
      expect(want).toMatch(/^HTTP\/1\.1 /)
      expect(got).toBe(want)
    })
  }

  it('takes the fast path for ordinary calls, and hands a WebSocket upgrade after them to node:http', async () => {
    const before = fast.fastAnswered
    const got = await exchange(fast.port, [post(CALL).repeat(3)])
    expect(got.split('HTTP/1.1 200 OK').length).toBe(4)
    expect(fast.fastAnswered - before).toBe(3)

    const ws = new WebSocket(fast.wsUrl)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const answer = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())))
    ws.send(CALL)
    expect(JSON.parse(await answer).result).toBe('0xa110')
    ws.close()
  })

  it("takes the fast path for fetch's requests (undici: what ethers, viem and the benches send)", async () => {
    const before = fast.fastAnswered
    for (let i = 0; i < 3; i++) {
      const res = await fetch(fast.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CALL })
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: '0xa110' })
    }
    expect(fast.fastAnswered - before).toBe(3)
  })

  it('upgrades to WebSocket on a connection that had fast calls first', async () => {
    const upgrade =
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
    const got = await exchange(fast.port, [post(CALL) + post(CALL), upgrade])
    expect(got.split('HTTP/1.1 200 OK').length).toBe(3)
    expect(got).toContain('HTTP/1.1 101 Switching Protocols')
  })

  it('closes an idle keep-alive connection after node:http keep-alive timeout, not before', async () => {
    const t0 = Date.now()
    const got = await exchange(fast.port, [post(CALL)], 15_000)
    expect(got).toContain('HTTP/1.1 200 OK')
    const took = Date.now() - t0
    expect(took).toBeGreaterThanOrEqual(4_500)
    expect(took).toBeLessThan(14_000)
  }, 30_000)

  it('recognises only complete, simple POSTs', () => {
    const b = (s: string) => Buffer.from(s, 'latin1')
    expect(simpleRequest(b(post(CALL)), 1000)).toEqual({
      start: post(CALL).length - CALL.length,
      end: post(CALL).length,
    })
    expect(simpleRequest(b(post(CALL).slice(0, -1)), 1000)).toBeUndefined()
    // the same head again (remembered): the body limit still applies
    expect(simpleRequest(b(post(CALL)), 10)).toBeUndefined()
    expect(simpleRequest(b(post(CALL)), 1000)).toBeDefined()
    expect(simpleRequest(b(post('')), 1000)).toBeUndefined()
    expect(simpleRequest(b(post(CALL, 'Transfer-Encoding: chunked\r\n')), 1000)).toBeUndefined()
    expect(simpleRequest(b(post(CALL, 'Upgrade: h2c\r\n')), 1000)).toBeUndefined()
    expect(simpleRequest(b(post(CALL, 'Host: y\r\n')), 1000)).toBeUndefined()
    expect(simpleRequest(b('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}'), 1000)).toBeUndefined()
    expect(simpleRequest(b('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'), 1000)).toEqual({
      start: 47,
      end: 49,
    })
    expect(simpleRequest(b(post(CALL, 'Bad Name: 1\r\n')), 1000)).toBeUndefined()
    expect(simpleRequest(b(post(CALL, 'X: a\x01b\r\n')), 1000)).toBeUndefined()
    expect(simpleRequest(b(post(CALL, `X: ${'a'.repeat(17_000)}\r\n`)), 1000)).toBeUndefined()
    expect(simpleRequest(b(post(CALL).replace('POST', 'PUT')), 1000)).toBeUndefined()
  })

  it("follows the server's keepAliveTimeout: none at 0 (no Keep-Alive line), as node:http", async () => {
    const headers = ['content-type', 'application/json']
    const answer = async (body: Buffer) => `{"echo":${body.toString()}}`
    const serve = (fastPath: boolean): Promise<Server> => {
      const http = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c) => chunks.push(c))
        req.on('end', async () => {
          const text = await answer(Buffer.concat(chunks))
          res.writeHead(200, [...headers, 'content-length', String(Buffer.byteLength(text))]).end(text)
        })
      })
      http.keepAliveTimeout = 0
      if (fastPath) installFastPath(http, { maxBody: 1000, answer, jsonHeaders: headers, emptyHeaders: [] })
      return new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(http)))
    }
    const [a, b] = await Promise.all([serve(false), serve(true)])
    try {
      const port = (h: Server) => (h.address() as AddressInfo).port
      const [want, got] = await Promise.all([exchange(port(a), [post('[1]')]), exchange(port(b), [post('[1]')])])
      expect(want).toContain('Connection: keep-alive\r\n\r\n')
      expect(got).toBe(want)
    } finally {
      for (const h of [a, b]) {
        h.closeAllConnections()
        h.close()
      }
    }
  })
})

describe('fast path backpressure', () => {
  it('stops reading a connection while its answer is pending: bytes streamed behind a slow call stay in the kernel', async () => {
    let release: (() => void) | undefined
    const answer = (body: Buffer) =>
      new Promise<string>((resolve) => {
        release = () => resolve(`{"echo":${body.toString()}}`)
      })
    const http = createServer((_req, res) => res.writeHead(400).end())
    installFastPath(http, {
      maxBody: 5 << 20,
      answer,
      jsonHeaders: ['content-type', 'application/json'],
      emptyHeaders: [],
    })
    // after the fast path's own listener (installFastPath takes over only node:http's single one)
    const serverSockets: Socket[] = []
    http.on('connection', (s: Socket) => serverSockets.push(s))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()))
    const client = connect((http.address() as AddressInfo).port, '127.0.0.1')
    client.on('error', () => {})
    try {
      await new Promise<void>((resolve) => client.once('connect', () => resolve()))
      client.write(post('[1]'))
      for (let i = 0; i < 1000 && !release; i++) await new Promise((r) => setTimeout(r, 10))
      expect(release, 'the fast path took the first request').toBeDefined()
      // 4 MiB of a second request's body while the first is unanswered; what the server reads of it stays small
      const junk = Buffer.alloc(64 * 1024, 0x20)
      for (let i = 0; i < 64; i++) client.write(junk)
      await new Promise((r) => setTimeout(r, 500))
      const read = serverSockets[0]?.bytesRead ?? 0
      expect(read).toBeGreaterThan(0)
      expect(read).toBeLessThan(1 << 20)
    } finally {
      release?.()
      client.destroy()
      http.closeAllConnections()
      http.close()
    }
  })
})
