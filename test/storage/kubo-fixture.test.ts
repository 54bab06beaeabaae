// The fixture must speak Kubo's wire formats, or the Kubo backend's tests prove nothing: drive each
// endpoint through the real kubo-rpc-client and check raw replies where the client hides them.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, HELLO, HELLO_V0, HELLO_V1 } from './conformance.ts'
import { patternBytes } from './fixtures/data.ts'
import { type KuboFixture, startKuboFixture } from './fixtures/kubo-fixture.ts'

describe('Kubo RPC fixture speaks Kubo', () => {
  let dir: string
  let fixture: KuboFixture
  let client: KuboRPCClient
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lattice-kfix-'))
    fixture = await startKuboFixture({ dir })
    client = create({ url: fixture.url })
  })
  afterAll(async () => {
    await fixture.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('add (client multipart, defaults = Kubo defaults: v0, pinned), cat with offset/length', async () => {
    const res = await client.add(HELLO)
    expect(res.cid.toString()).toBe(HELLO_V0)
    expect(fixture.pins.get(HELLO_V0)).toBe('recursive')
    const v1 = await client.add(HELLO, { cidVersion: 1, pin: false })
    expect(v1.cid.toString()).toBe(HELLO_V1)
    expect(Buffer.from(await collect(client.cat(HELLO_V0, { offset: 6, length: 5 }))).toString()).toBe('world')
    const big = patternBytes(600_000, 3)
    const added = await client.add(big, { cidVersion: 1 })
    expect(Buffer.from(await collect(client.cat(added.cid))).equals(big)).toBe(true)
  })

  it('add replies NDJSON progress lines then the result with Size as a string', async () => {
    const boundary = 'xyz'
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n`),
      patternBytes(700_000, 1),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
    const res = await fetch(`${fixture.url}/api/v0/add?cid-version=1&progress=true&pin=false`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    })
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.slice(0, -1).every((l) => typeof l.Bytes === 'number' && 'Name' in l)).toBe(true)
    const last = lines.at(-1)
    expect(Object.keys(last).sort()).toEqual(['Hash', 'Name', 'Size'])
    expect(typeof last.Size).toBe('string')
  })

  it('block/stat, files/stat, pin ls (streamed and Keys), pin rm, id, version, repo/gc', async () => {
    expect(await client.block.stat(CID.parse(HELLO_V1))).toEqual({ cid: CID.parse(HELLO_V1), size: 12 })
    const st = await client.files.stat(`/ipfs/${HELLO_V0}`)
    expect(st).toMatchObject({ type: 'file', size: 12 })
    const pins = []
    for await (const p of client.pin.ls()) pins.push(p.cid.toString())
    expect(pins).toContain(HELLO_V0)
    const keys = (await (await fetch(`${fixture.url}/api/v0/pin/ls?type=recursive`, { method: 'POST' })).json()) as {
      Keys: Record<string, unknown>
    }
    expect(keys.Keys[HELLO_V0]).toEqual({ Type: 'recursive' })
    expect((await client.pin.rm(CID.parse(HELLO_V0))).toString()).toBe(HELLO_V0)
    expect((await client.id()).id.toString()).toMatch(/^12D3KooW/)
    expect((await client.version()).version).toMatch(/^0\.\d+\.\d+$/)
    const removed = []
    for await (const r of client.repo.gc()) if (r.cid) removed.push(r.cid.toString())
    expect(removed.length).toBeGreaterThan(0)
  })

  it('errors are HTTP 500 with {Message, Code: 0, Type: "error"}; unknown commands 404; GET 405', async () => {
    const res = await fetch(`${fixture.url}/api/v0/block/get?arg=${HELLO_V1}`, { method: 'POST' })
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ Message: expect.stringContaining('not found'), Code: 0, Type: 'error' })
    await expect(client.block.get(CID.parse(HELLO_V1))).rejects.toThrow(/not found/)
    expect((await fetch(`${fixture.url}/api/v0/nope`, { method: 'POST' })).status).toBe(404)
    expect((await fetch(`${fixture.url}/api/v0/version`)).status).toBe(405)
  })
})
