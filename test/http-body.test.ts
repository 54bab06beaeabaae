import type { Server } from 'node:http'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readBody } from '../src/http-body.ts'

const LIMIT = 64 * 1024

describe('readBody', () => {
  let server: Server
  let port: number
  beforeAll(async () => {
    // answers with the body's length, first and last 16 characters, or 413 past the limit (as src/rpc/server.ts)
    server = createServer((req, res) => {
      readBody(req, LIMIT, (body, err) => {
        if (err) return
        if (!body) {
          res.writeHead(413, { connection: 'close' }).end('too large')
          req.destroy()
          return
        }
        res
          .writeHead(200)
          .end(`${body.length}:${body.toString('utf8').slice(0, 16)}:${body.toString('utf8').slice(-16)}`)
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  /** POST `parts` as separate writes (chunked, or with a declared length), and return status and text. */
  function post(parts: string[], declare?: number): Promise<[number, string]> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = declare === undefined ? {} : { 'content-length': String(declare) }
      const req = request({ port, host: '127.0.0.1', method: 'POST', headers }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => {
          text += c
        })
        res.on('end', () => resolve([res.statusCode ?? 0, text]))
        res.on('error', reject)
      })
      req.on('error', (e) => (e as NodeJS.ErrnoException).code === 'ECONNRESET' || reject(e))
      let i = 0
      const next = () => {
        if (i === parts.length) return req.end()
        req.write(parts[i++], () => setTimeout(next, 5))
      }
      next()
    })
  }

  it('reads a one-chunk body', async () => {
    expect(await post(['{"a":1}'])).toEqual([200, '7:{"a":1}:{"a":1}'])
  })

  it('joins a body that arrives in many chunks, in order', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => `<${String(i).padStart(3, '0')}>`)
    const whole = parts.join('')
    expect(await post(parts)).toEqual([200, `${whole.length}:${whole.slice(0, 16)}:${whole.slice(-16)}`])
  })

  it('reads an empty body', async () => {
    expect(await post([], 0)).toEqual([200, '0::'])
  })

  it('accepts a body of exactly the limit and refuses one byte more', async () => {
    const a = 'a'.repeat(LIMIT)
    expect((await post([a.slice(0, 1000), a.slice(1000)]))[0]).toBe(200)
    expect(await post([a.slice(0, 1000), `${a.slice(1000)}b`])).toEqual([413, 'too large'])
  })
})
