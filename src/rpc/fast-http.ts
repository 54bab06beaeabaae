// A fast path in front of node:http for the one request shape nearly every JSON-RPC client sends: a complete
// `POST` with a Content-Length body, arriving whole on a keep-alive connection. Why: node:http's per-request
// machinery (parser callbacks, IncomingMessage and ServerResponse, their stream state, header validation,
// keep-alive bookkeeping) cost ~0.07 ms of CPU per eth_chainId here, more than Lattice's own JSON-RPC work
// and most of the gap to anvil (issue 17: bench/rpc-overhead.ts, "node:http exact bytes" vs "node:net minimal").
//
// It is not a second HTTP server. It answers only requests it fully understands and that are entirely in
// its buffer, with the bytes node:http would send for them (test/rpc/fast-http.test.ts compares them); the
// first byte of anything else (GET, OPTIONS, chunked bodies, Expect, Upgrade for WebSockets, Connection:
// close, HTTP/1.0, a request split across reads, an oversized or malformed head) hands the connection with
// every unread byte to node:http, which keeps it from then on and applies its own parsing, limits and timeouts.
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/** Options for {@link installFastPath}. */
export interface FastPathOpts {
  /** Largest body answered here; a larger one is node:http's (and the server's 413). */
  maxBody: number
  /** The JSON-RPC answer to a body: the response text, '' when nothing is owed (notifications only). */
  answer(body: Buffer): Promise<string>
  /** Header list (name, value, …) of a 200 with a JSON body, as the server passes it to writeHead. */
  jsonHeaders: readonly string[]
  /** Header list of an empty 200 (notifications) and of a 500. */
  emptyHeaders: readonly string[]
}

/** The installed fast path. */
export interface FastPath {
  /** Destroy the connections the fast path still holds (node:http's closeAllConnections does not see them). */
  closeAll(): void
  /** Requests taken by the fast path so far (tests check that ordinary clients' calls take it). */
  readonly answered: number
}

/** node:http's default `maxHeaderSize`: a longer head is left to it. */
const MAX_HEAD = 16 * 1024
const CRLFCRLF = Buffer.from('\r\n\r\n')
// RFC 3986 characters only: anything llhttp might treat differently goes to node:http
const REQUEST_LINE = /^POST \/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]* HTTP\/1\.1$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const CONTENT_LENGTH = /^[0-9]{1,15}$/
const EMPTY_CHUNKED = 'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n'

/**
 * Heads already found simple, by their exact text, with their Content-Length: a client sends the same head for
 * call after call (only the length changes with the body), and parsing its lines was a tenth of the fast path's
 * CPU. The decision is a function of the head's bytes alone, so a remembered one is the one parsing would make.
 */
const simpleHeads = new Map<string, number>()
/** Heads remembered at most; past it the memo starts over (a client varying its head only loses the memo). */
const HEAD_MEMO = 256
/** Longest head remembered (a client's usual head is ~150 bytes): the memo holds at most 256 KiB. */
const MEMO_HEAD_BYTES = 1024

/**
 * Where the body of the request at the start of `buf` lies, when it is a request the fast path answers and all
 * of it is in `buf`; undefined otherwise (for node:http).
 */
export function simpleRequest(buf: Buffer, maxBody: number): { start: number; end: number } | undefined {
  const headEnd = buf.indexOf(CRLFCRLF)
  if (headEnd < 0 || headEnd + 4 > MAX_HEAD) return undefined
  const head = buf.toString('latin1', 0, headEnd)
  let length = simpleHeads.get(head)
  if (length === undefined) {
    length = simpleHeadLength(head)
    if (length < 0) return undefined
    if (head.length <= MEMO_HEAD_BYTES) {
      if (simpleHeads.size >= HEAD_MEMO) simpleHeads.clear()
      simpleHeads.set(head, length)
    }
  }
  if (length <= 0 || length > maxBody) return undefined
  const start = headEnd + 4
  const end = start + length
  return buf.length < end ? undefined : { start, end }
}

/** The Content-Length of a head (request line and header lines, no final CRLF) the fast path answers; else -1. */
function simpleHeadLength(head: string): number {
  const lineEnd = head.indexOf('\r\n')
  // no header lines means no Host: node:http's 400
  if (lineEnd < 0 || !REQUEST_LINE.test(head.slice(0, lineEnd))) return -1
  let length = -1
  let host = false
  for (let at = lineEnd + 2; at < head.length; ) {
    let next = head.indexOf('\r\n', at)
    if (next < 0) next = head.length
    const line = head.slice(at, next)
    at = next + 2
    const colon = line.indexOf(':')
    if (colon <= 0) return -1
    const name = line.slice(0, colon)
    if (!TOKEN.test(name)) return -1
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')
    if (hasControl(value)) return -1
    switch (name.toLowerCase()) {
      case 'content-length':
        if (length >= 0 || !CONTENT_LENGTH.test(value)) return -1
        length = Number(value)
        break
      case 'host':
        if (host) return -1
        host = true
        break
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return -1
        break
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return -1
    }
  }
  return host ? length : -1
}

/** Whether a header value holds a control character other than HTAB (obs-text, 0x80-0xff, passes, as in llhttp). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true
  }
  return false
}

/** Header lines as node:http writes a flat writeHead list: `name: value\r\n`, names as given. */
function headerLines(list: readonly string[]): string {
  let out = ''
  for (let i = 0; i < list.length; i += 2) out += `${list[i]}: ${list[i + 1]}\r\n`
  return out
}

/**
 * Put the fast path in front of `http`'s own connection handling. Returns undefined, changing nothing, when
 * `http` does not have exactly the one 'connection' listener node:http registers (a Node version that works
 * otherwise): the server then runs on node:http alone.
 */
export function installFastPath(http: Server, opts: FastPathOpts): FastPath | undefined {
  const own = http.listeners('connection')
  if (own.length !== 1) return undefined
  const nodeConnection = own[0] as (this: Server, socket: Socket) => void
  http.removeListener('connection', nodeConnection)

  // the tail node:http adds after the given headers of a keep-alive response (no Keep-Alive line when the
  // server's keepAliveTimeout is 0)
  const keepAlive = () =>
    http.keepAliveTimeout
      ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(http.keepAliveTimeout / 1000)}\r\n`
      : 'Connection: keep-alive\r\n'
  const json = `HTTP/1.1 200 OK\r\n${headerLines(opts.jsonHeaders)}content-length: `
  const empty = `HTTP/1.1 200 OK\r\n${headerLines(opts.emptyHeaders)}`
  const failed = `HTTP/1.1 500 Internal Server Error\r\n${headerLines(opts.emptyHeaders)}`
  const sockets = new Set<Socket>()
  let answered = 0

  // node:http's Date value, cached for the second it names as node:http caches it
  let date = ''
  let dateUntil = 0
  const utcDate = (): string => {
    const now = Date.now()
    if (now >= dateUntil) {
      date = new Date(now).toUTCString()
      dateUntil = now - (now % 1000) + 1000
    }
    return date
  }

  function responseOf(text: string | undefined): string {
    // an explicit writeHead without a length and then end(): node:http frames the empty body as chunked
    if (text === undefined) return `${failed}Date: ${utcDate()}\r\n${keepAlive()}${EMPTY_CHUNKED}`
    if (text === '') return `${empty}Date: ${utcDate()}\r\n${keepAlive()}${EMPTY_CHUNKED}`
    return `${json}${Buffer.byteLength(text)}\r\nDate: ${utcDate()}\r\n${keepAlive()}\r\n${text}`
  }

  http.on('connection', (socket: Socket) => {
    let buf: Buffer | undefined
    // a request is being answered (or its answer waits for 'drain'): later bytes wait in buf, in order
    let busy = false
    sockets.add(socket)

    const onData = (chunk: Buffer) => {
      buf = buf === undefined ? chunk : Buffer.concat([buf, chunk])
      if (busy) {
        // bytes while an answer is being computed: stop reading until it is out, so a client streaming behind a
        // slow call (an eth_call may run 5 s) cannot make buf grow, nor each chunk re-copy all of it
        socket.pause()
        return
      }
      // node:http clears the keep-alive timeout when the next request starts
      socket.setTimeout(0)
      pump()
    }
    const onTimeout = () => socket.destroy()
    const onEnd = () => {
      // as node:http with its default httpAllowHalfOpen false: the client's end ends the connection, and an
      // answer still being computed is dropped
      if (socket.writable) socket.end()
    }
    const onError = () => socket.destroy()
    const onClose = () => sockets.delete(socket)
    socket.on('data', onData)
    socket.on('timeout', onTimeout)
    socket.on('end', onEnd)
    socket.on('error', onError)
    socket.on('close', onClose)

    function pump(): void {
      if (buf === undefined) {
        // idle between requests: node:http's keep-alive timeout
        socket.setTimeout(http.keepAliveTimeout)
        return
      }
      const req = simpleRequest(buf, opts.maxBody)
      if (!req) {
        handOff()
        return
      }
      const body = buf.subarray(req.start, req.end)
      buf = req.end === buf.length ? undefined : buf.subarray(req.end)
      busy = true
      opts.answer(body).then(respond, () => respond(undefined))
    }

    function respond(text: string | undefined): void {
      answered++
      if (socket.destroyed || !socket.writable) return
      const flushed = socket.write(responseOf(text))
      const next = () => {
        busy = false
        if (socket.isPaused()) socket.resume()
        pump()
      }
      if (flushed) next()
      else socket.once('drain', next)
    }

    function handOff(): void {
      socket.setTimeout(0)
      socket.removeListener('data', onData)
      socket.removeListener('timeout', onTimeout)
      socket.removeListener('end', onEnd)
      socket.removeListener('error', onError)
      socket.removeListener('close', onClose)
      sockets.delete(socket)
      if (socket.isPaused()) socket.resume()
      nodeConnection.call(http, socket)
      // the unread bytes go back in front of the stream, where node:http's 'data' listener reads them first
      if (buf !== undefined) socket.unshift(buf)
      buf = undefined
    }
  })

  return {
    closeAll() {
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    get answered() {
      return answered
    },
  }
}
