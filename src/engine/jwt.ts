// Engine API authentication (execution-apis src/engine/authentication.md): every request carries
// `Authorization: Bearer <JWT>`, HS256 over a 32-byte secret shared with the consensus client, whose `iat` claim
// is within 60 s of this node's clock. The secret lives in a file of 64 hex digits; a missing file is created with
// a random secret and mode 0600, as geth does.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { JwtAuthError, JwtSecretError } from './errors.ts'

/** How far `iat` may be from this node's clock, in seconds (the specification's ±60 s). */
export const JWT_IAT_WINDOW_S = 60

/** Read the secret in `path`, creating it (random, mode 0600) when the file does not exist. */
export function loadOrCreateJwtSecret(path: string): { secret: Uint8Array; created: boolean } {
  if (!existsSync(path)) {
    const secret = randomBytes(32)
    try {
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, `0x${secret.toString('hex')}`, { mode: 0o600, flag: 'wx' })
    } catch (err) {
      throw new JwtSecretError(path, `cannot create it (${(err as Error).message})`)
    }
    return { secret: new Uint8Array(secret), created: true }
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch (err) {
    throw new JwtSecretError(path, `cannot read it (${(err as Error).message})`)
  }
  const hex = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new JwtSecretError(path, 'it does not hold 32 bytes as 64 hex digits')
  return { secret: new Uint8Array(Buffer.from(hex, 'hex')), created: false }
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url')

/** An HS256 token with `iat` (seconds; default now), as a consensus client sends it (tests, tools). */
export function signJwt(secret: Uint8Array, iat = Math.floor(Date.now() / 1000), extra: object = {}): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const body = b64url(JSON.stringify({ iat, ...extra }))
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest()
  return `${head}.${body}.${b64url(sig)}`
}

/**
 * Check an `Authorization` header value; throws JwtAuthError naming what is wrong. `nowS` is this node's clock in
 * seconds.
 */
export function verifyJwt(authorization: string | undefined, secret: Uint8Array, nowS = Date.now() / 1000): void {
  if (!authorization) throw new JwtAuthError('missing Authorization header')
  const m = /^Bearer\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/.exec(authorization.trim())
  if (!m) throw new JwtAuthError('expected "Authorization: Bearer <header>.<claims>.<signature>"')
  const [, head, body, sig] = m
  let header: { alg?: unknown }
  let claims: { iat?: unknown }
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    throw new JwtAuthError('the token is not base64url JSON')
  }
  if (header?.alg !== 'HS256') throw new JwtAuthError(`algorithm ${JSON.stringify(header?.alg)} is not HS256`)
  const want = createHmac('sha256', secret).update(`${head}.${body}`).digest()
  const got = Buffer.from(sig, 'base64url')
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new JwtAuthError('signature mismatch')
  const iat = claims?.iat
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new JwtAuthError('missing iat claim')
  if (Math.abs(nowS - iat) > JWT_IAT_WINDOW_S) {
    throw new JwtAuthError(
      `iat ${iat} is ${Math.round(nowS - iat)} s from this node's clock (limit ±${JWT_IAT_WINDOW_S} s)`,
    )
  }
}
