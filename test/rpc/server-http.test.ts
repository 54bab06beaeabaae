// The HTTP framing of the JSON-RPC server, byte for byte where clients can tell: status, CORS headers, a known
// content length (no chunked encoding), keep-alive, and the answers to notifications, oversized bodies and
// non-POST methods. Issue 17 rewrote the POST path for speed; these pin what it must keep.
import type { IncomingHttpHeaders } from 'node:http'
import { Agent, request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { CHAIN_ID, startTestDevnet } from '../helpers/devnet.ts'

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
}

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  rawHeaders: string[]
  body: string
  socket: unknown
}

describe('JSON-RPC over HTTP', () => {
  let devnet: TestDevnet
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })

  beforeAll(async () => {
    devnet = await startTestDevnet()
  }, 120_000)
  afterAll(async () => {
    agent.destroy()
    await devnet.stop()
  })

  function send(method: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
    const url = new URL(devnet.url)
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method,
          agent,
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (c) => {
            text += c
          })
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              rawHeaders: res.rawHeaders,
              body: text,
              socket: res.socket,
            }),
          )
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  it('answers a call with CORS headers, a content length and keep-alive, on one reused socket', async () => {
    const a = await send('POST', '{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]}')
    expect(a.status).toBe(200)
    expect(a.body).toBe(`{"jsonrpc":"2.0","id":7,"result":"0x${CHAIN_ID.toString(16)}"}`)
    expect(a.headers).toMatchObject({ ...CORS, 'content-type': 'application/json', connection: 'keep-alive' })
    expect(a.headers['content-length']).toBe(String(Buffer.byteLength(a.body)))
    expect(a.headers['transfer-encoding']).toBeUndefined()
    expect(a.headers.date).toBeDefined()
    // the CORS names keep the casing they have always been sent with
    expect(a.rawHeaders).toContain('Access-Control-Allow-Origin')
    const b = await send('POST', '{"jsonrpc":"2.0","id":"x","method":"eth_chainId"}')
    expect(b.body).toBe(`{"jsonrpc":"2.0","id":"x","result":"0x${CHAIN_ID.toString(16)}"}`)
    expect(b.socket).toBe(a.socket)
  })

  it('answers a batch in order, and errors as JSON-RPC errors', async () => {
    const r = await send(
      'POST',
      '[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"nope"},{"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":["0x12"]}]',
    )
    const out = JSON.parse(r.body)
    expect(out.map((x: { id: number }) => x.id)).toEqual([1, 2, 3])
    expect(out[1].error).toEqual({ code: -32601, message: 'Method not found' })
    expect(out[2].error.code).toBe(-32602)
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)))
  })

  it('answers a notification with an empty 200 that carries the CORS headers', async () => {
    const r = await send('POST', '{"jsonrpc":"2.0","method":"eth_chainId","params":[]}')
    expect(r.status).toBe(200)
    expect(r.body).toBe('')
    expect(r.headers).toMatchObject(CORS)
  })

  it('refuses a body over the 5 MiB limit with 413, -32600 and the CORS headers, declared or not', async () => {
    const big = `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["${'a'.repeat(5 * 1024 * 1024)}"]}`
    const declared = await send('POST', big)
    expect(declared.status).toBe(413)
    expect(declared.headers).toMatchObject({ ...CORS, 'content-type': 'application/json', connection: 'close' })
    expect(JSON.parse(declared.body).error.code).toBe(-32600)
    const chunked = await send('POST', big, { 'transfer-encoding': 'chunked' })
    expect(chunked.status).toBe(413)
    expect(chunked.headers).toMatchObject(CORS)
    expect(JSON.parse(chunked.body).error.code).toBe(-32600)
  })

  it('answers OPTIONS, GET and other methods as before', async () => {
    const options = await send('OPTIONS')
    expect(options.status).toBe(204)
    expect(options.headers).toMatchObject(CORS)
    const get = await send('GET')
    expect(get.status).toBe(200)
    expect(get.body).toBe('Lattice JSON-RPC: POST JSON-RPC 2.0 requests here\n')
    expect(get.headers).toMatchObject(CORS)
    const put = await send('PUT', '{}')
    expect(put.status).toBe(405)
    expect(put.headers).toMatchObject({ ...CORS, allow: 'POST, GET, OPTIONS' })
  })

  it('answer() gives what HTTP sends for a body, without HTTP', async () => {
    const enc = new TextEncoder()
    for (const body of [
      `{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]}`,
      `[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":"2.0","id":2,"method":"nope"},5]`,
      `{"jsonrpc":"2.0","method":"eth_chainId"}`,
      `{"jsonrpc":"2.0","id":3,"method":"eth_call","params":[{"to":"0x${'42'.repeat(20)}","data":"0x12"},"latest"]}`,
    ]) {
      expect(await devnet.server.answer(enc.encode(body))).toBe((await send('POST', body)).body)
    }
  })
})
