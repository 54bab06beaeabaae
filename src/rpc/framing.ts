// JSON-RPC framing: from a request body to the response text, before any method runs. Hostile bodies are
// answered here the way geth and anvil answer them: too-deep nesting is refused before JSON.parse (whose
// recursion takes seconds on a few MB of `[[[[…` and ends in a stack overflow), and a batch gets one response
// per entry, an invalid entry (a number, an array, a nested batch) included, so no client waits forever.
import { RpcCode } from './errors.ts'

/** anvil's limit (serde_json's recursion limit); deeper bodies are refused with -32600. */
export const DEFAULT_MAX_JSON_DEPTH = 128

/** Limits applied by {@link frameRequest}. */
export interface FramingLimits {
  /** Most requests in one batch (default 1000, as geth's `BatchRequestLimit`). */
  maxBatch?: number
  /** Deepest `[`/`{` nesting accepted in a body (default {@link DEFAULT_MAX_JSON_DEPTH}). */
  maxDepth?: number
}

/**
 * Runs one request object (never an array) and returns its response object, or undefined for a notification.
 * It must not throw: errors are responses.
 */
export type RunRequest = (request: object) => Promise<unknown>

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_SQUARE = 0x5b
const OPEN_CURLY = 0x7b
const CLOSE_SQUARE = 0x5d
const CLOSE_CURLY = 0x7d

/**
 * Whether the JSON text in `body` nests arrays and objects deeper than `max`. One pass, no recursion, no
 * allocation; brackets inside strings do not count. Works on UTF-8 bytes: multi-byte sequences never contain
 * ASCII bytes, so the scan cannot be fooled by them. Malformed text is left for JSON.parse to refuse.
 * A string is crossed with a native search for its closing quote (a 222 KB hex tensor is one string: byte by byte
 * in JavaScript that took ~1 ms); a quote after an odd run of backslashes is escaped and the search goes on.
 */
export function nestingExceeds(body: Uint8Array, max: number): boolean {
  let depth = 0
  const n = body.length
  for (let i = 0; i < n; i++) {
    const c = body[i]
    if (c === QUOTE) {
      // find the quote that closes this string
      let j = i
      for (;;) {
        j = body.indexOf(QUOTE, j + 1)
        if (j < 0) return false // unterminated: JSON.parse refuses it
        let backslashes = 0
        while (body[j - 1 - backslashes] === BACKSLASH) backslashes++
        if (backslashes % 2 === 0) break
      }
      i = j
    } else if (c === OPEN_SQUARE || c === OPEN_CURLY) {
      if (++depth > max) return true
    } else if (c === CLOSE_SQUARE || c === CLOSE_CURLY) depth--
  }
  return false
}

/** A JSON-RPC error response with a null id, as text. */
export function errorResponseText(code: number, message: string): string {
  return JSON.stringify(errorResponse(code, message))
}

function errorResponse(code: number, message: string, id: unknown = null): object {
  return { jsonrpc: '2.0', id, error: { code, message } }
}

const isRequestObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The id of an entry when it has a usable one, else null (for the -32600 response of an invalid entry). */
function idOf(v: unknown): unknown {
  if (!isRequestObject(v)) return null
  const id = (v as { id?: unknown }).id
  return typeof id === 'string' || typeof id === 'number' ? id : null
}

/**
 * Answer one request body: the response text, or '' when only notifications were sent. Too-deep nesting and
 * non-object requests are -32600, unparsable text -32700; a batch is answered entry by entry, in order.
 */
export async function frameRequest(body: Uint8Array, run: RunRequest, limits: FramingLimits = {}): Promise<string> {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_JSON_DEPTH
  const maxBatch = limits.maxBatch ?? 1000
  // nesting deeper than maxDepth needs more than maxDepth bytes: a short body (every ordinary call) skips the scan
  if (body.length > maxDepth && nestingExceeds(body, maxDepth)) {
    return errorResponseText(RpcCode.invalidRequest, `invalid request: nesting deeper than ${maxDepth} levels`)
  }
  let msg: unknown
  try {
    msg = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch {
    return errorResponseText(RpcCode.parseError, 'parse error')
  }
  if (!Array.isArray(msg)) {
    if (!isRequestObject(msg)) return errorResponseText(RpcCode.invalidRequest, 'invalid request')
    return textOf(await run(msg))
  }
  if (msg.length === 0) return errorResponseText(RpcCode.invalidRequest, 'empty batch')
  if (msg.length > maxBatch) {
    return errorResponseText(RpcCode.invalidRequest, `batch too large: ${msg.length} calls, the limit is ${maxBatch}`)
  }
  const answers = await Promise.all(
    msg.map((entry) =>
      isRequestObject(entry)
        ? run(entry)
        : Promise.resolve(
            errorResponse(
              RpcCode.invalidRequest,
              Array.isArray(entry) ? 'invalid request: nested batch' : 'invalid request',
              idOf(entry),
            ),
          ),
    ),
  )
  const out = answers.filter((a) => a !== undefined && a !== null)
  return out.length === 0 ? '' : JSON.stringify(out)
}

function textOf(response: unknown): string {
  return response === undefined || response === null ? '' : JSON.stringify(response)
}
