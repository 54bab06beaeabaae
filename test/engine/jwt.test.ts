// The JWT secret file and token checks (src/engine/jwt.ts), and the --authrpc.* flags.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseAuthRpcFlags } from '../../src/cli/authrpc-flags.ts'
import { JwtAuthError, JwtSecretError } from '../../src/engine/errors.ts'
import { loadOrCreateJwtSecret, signJwt, verifyJwt } from '../../src/engine/jwt.ts'
import { runCli } from '../helpers/cli.ts'

describe('JWT secret and tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-jwt-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('creates a missing secret file (0x + 64 hex digits, mode 0600) and reads it back the same', () => {
    const path = join(dir, 'sub', 'jwt.hex')
    const made = loadOrCreateJwtSecret(path)
    expect(made.created).toBe(true)
    expect(readFileSync(path, 'utf8')).toMatch(/^0x[0-9a-f]{64}$/)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const again = loadOrCreateJwtSecret(path)
    expect(again.created).toBe(false)
    expect(Buffer.from(again.secret).equals(Buffer.from(made.secret))).toBe(true)
  })

  it('reads a secret without 0x and with a trailing newline; refuses anything but 32 bytes', () => {
    const ok = join(dir, 'ok.hex')
    writeFileSync(ok, `${'ab'.repeat(32)}\n`)
    expect(loadOrCreateJwtSecret(ok).secret).toEqual(new Uint8Array(32).fill(0xab))
    const short = join(dir, 'short.hex')
    writeFileSync(short, 'abcd')
    expect(() => loadOrCreateJwtSecret(short)).toThrow(JwtSecretError)
    expect(() => loadOrCreateJwtSecret(short)).toThrow(/64 hex digits/)
  })

  it('accepts iat within ±60 s, refuses outside, a wrong secret, alg none, and a malformed header', () => {
    const secret = new Uint8Array(32).fill(1)
    const now = 1_800_000_000
    expect(() => verifyJwt(`Bearer ${signJwt(secret, now - 59)}`, secret, now)).not.toThrow()
    expect(() => verifyJwt(`Bearer ${signJwt(secret, now + 59)}`, secret, now)).not.toThrow()
    expect(() => verifyJwt(`Bearer ${signJwt(secret, now - 61)}`, secret, now)).toThrow(/iat/)
    expect(() => verifyJwt(`Bearer ${signJwt(secret, now + 61)}`, secret, now)).toThrow(/iat/)
    expect(() => verifyJwt(`Bearer ${signJwt(new Uint8Array(32), now)}`, secret, now)).toThrow(/signature/)
    const [h, b] = signJwt(secret, now).split('.')
    expect(() => verifyJwt(`Bearer ${h}.${b}.`, secret, now)).toThrow(JwtAuthError)
    const none = Buffer.from('{"alg":"none"}').toString('base64url')
    expect(() => verifyJwt(`Bearer ${none}.${b}.`, secret, now)).toThrow(/HS256/)
    expect(() => verifyJwt(undefined, secret, now)).toThrow(/missing/)
    expect(() => verifyJwt('Basic abc', secret, now)).toThrow(/Bearer/)
    const noIat = signJwt(secret, now, {}).replace(/\.[^.]+\./, `.${Buffer.from('{"x":1}').toString('base64url')}.`)
    expect(() => verifyJwt(`Bearer ${noIat}`, secret, now)).toThrow(JwtAuthError)
  })
})

describe('--authrpc.* flags', () => {
  it('are off unless given; any one turns the Engine API on at 8551 on 127.0.0.1', () => {
    expect(parseAuthRpcFlags({})).toBeUndefined()
    expect(parseAuthRpcFlags({ 'authrpc.jwtsecret': '/x' })).toEqual({
      port: 8551,
      host: '127.0.0.1',
      jwtSecretPath: '/x',
    })
    expect(parseAuthRpcFlags({ 'authrpc.port': '9551', 'authrpc.addr': '0.0.0.0' })).toMatchObject({
      port: 9551,
      host: '0.0.0.0',
    })
  })

  it('lattice node refuses a port that is not a number, saying how to fix it', async () => {
    const r = await runCli(['node', '--datadir', '/nonexistent', '--authrpc.port', 'abc'])
    expect(r.code).toBe(1)
    expect(r.err + r.out).toMatch(/--authrpc\.port abc is not a port number/)
  })
})
