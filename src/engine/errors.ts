// Engine API errors (execution-apis src/engine/common.md#errors): each carries its JSON-RPC code; the server turns
// them into error responses in one place (server.ts).
import { LatticeError } from '../errors.ts'

/** The Engine API's error codes. */
export const EngineCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  serverError: -32000,
  unknownPayload: -38001,
  invalidForkchoiceState: -38002,
  invalidPayloadAttributes: -38003,
  tooLargeRequest: -38004,
  unsupportedFork: -38005,
} as const

/** An error answered as a JSON-RPC error with `rpcCode`. */
export class EngineError extends LatticeError {
  constructor(
    code: string,
    readonly rpcCode: number,
    message: string,
  ) {
    super(code, message)
  }
}

/** -32602: a parameter is missing or malformed; the message names it. */
export class EngineParamsError extends EngineError {
  constructor(message: string) {
    super('ENGINE_INVALID_PARAMS', EngineCode.invalidParams, message)
  }
}

/** -38001: getPayload with an id this node did not build (or no longer keeps). */
export class UnknownPayloadError extends EngineError {
  constructor(id: string) {
    super('ENGINE_UNKNOWN_PAYLOAD', EngineCode.unknownPayload, `Unknown payload: no payload with id ${id}`)
  }
}

/** -38002: safe or finalized is unknown, or not on the chain of the head. */
export class InvalidForkchoiceStateError extends EngineError {
  constructor(detail: string) {
    super('ENGINE_INVALID_FORKCHOICE', EngineCode.invalidForkchoiceState, `Invalid forkchoice state: ${detail}`)
  }
}

/** -38003: payload attributes that cannot build on the head (e.g. a timestamp not after the head's). */
export class InvalidPayloadAttributesError extends EngineError {
  constructor(detail: string) {
    super('ENGINE_INVALID_ATTRIBUTES', EngineCode.invalidPayloadAttributes, `Invalid payload attributes: ${detail}`)
  }
}

/** -38004: more hashes or blocks than one request may ask for. */
export class TooLargeRequestError extends EngineError {
  constructor(detail: string) {
    super('ENGINE_TOO_LARGE', EngineCode.tooLargeRequest, `Too large request: ${detail}`)
  }
}

/** -38005: the method version does not serve the fork of the payload's timestamp. */
export class UnsupportedForkError extends EngineError {
  constructor(method: string, detail: string) {
    super('ENGINE_UNSUPPORTED_FORK', EngineCode.unsupportedFork, `Unsupported fork: ${method} ${detail}`)
  }
}

/** -32601. */
export class EngineMethodNotFoundError extends EngineError {
  constructor(method: string) {
    super('ENGINE_METHOD_NOT_FOUND', EngineCode.methodNotFound, `the method ${method} does not exist/is not available`)
  }
}

/** A JWT that does not authenticate the caller (answered with HTTP 401). */
export class JwtAuthError extends LatticeError {
  constructor(reason: string) {
    super('ENGINE_JWT', `JWT authentication failed: ${reason}`)
  }
}

/** The JWT secret file cannot be read or written, or does not hold 32 hex bytes. */
export class JwtSecretError extends LatticeError {
  constructor(path: string, reason: string) {
    super(
      'ENGINE_JWT_SECRET',
      `JWT secret ${path}: ${reason}. Pass --authrpc.jwtsecret with a file holding 32 bytes as hex (64 hex digits), or a path where one can be created.`,
    )
  }
}
