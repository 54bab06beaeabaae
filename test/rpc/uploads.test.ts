import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet } from 'ethers'
import { afterAll, describe, expect, it } from 'vitest'
import { createUploadStore, uploadContentHash, uploadMessage } from '../../src/rpc/uploads.ts'

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const now = () => Math.floor(Date.now() / 1000)

describe('staged uploads: authority, bounds, expiry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-uploads-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const w = Wallet.createRandom()
  const data = new Uint8Array([1, 2, 3, 4, 5])
  const files = [{ name: 'm.onnx', size: 5, sha256: sha(data) }]
  const store = (limits = {}) =>
    createUploadStore({
      chainId: 41232n,
      dir,
      limits,
      isDevAccount: (a) => a === '0x00000000000000000000000000000000000000de',
    })
  const signed = async (expires = now() + 60, chainId = 41232n, signer = w) => ({
    a: { chainId: 41232n, sender: w.address, files, expires },
    sig: await signer.signMessage(uploadMessage({ chainId, sender: w.address, files, expires })),
  })

  it('the signed message names chain, sender, files, bytes, content and expiry', () => {
    const msg = uploadMessage({
      chainId: 41232n,
      sender: '0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      files: [
        { name: 'b.bin', size: 3, sha256: 'bb'.repeat(32) },
        { name: 'a.onnx', size: 2, sha256: 'aa'.repeat(32) },
      ],
      expires: 1796000000,
    })
    const content = `0x${createHash('sha256')
      .update(`a.onnx 2 ${'aa'.repeat(32)}\nb.bin 3 ${'bb'.repeat(32)}\n`)
      .digest('hex')}`
    expect(msg).toBe(
      [
        'Lattice model upload',
        'chain: 41232',
        'sender: 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
        'files: 2',
        'bytes: 5',
        `content: ${content}`,
        'expires: 1796000000',
      ].join('\n'),
    )
    expect(uploadContentHash([{ name: 'x', size: 0, sha256: sha(new Uint8Array()) }])).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('refuses no signature, another chain, another signer, a past or far expiry, and reuse', async () => {
    const s = store()
    const ok = await signed()
    await expect(s.create(ok.a, undefined)).rejects.toThrow(/signature: missing/)
    const chain1 = await signed(now() + 60, 1n)
    await expect(s.create(chain1.a, chain1.sig)).rejects.toThrow(/signed by 0x[0-9a-f]{40}, not by/)
    const other = await signed(now() + 60, 41232n, Wallet.createRandom())
    await expect(s.create(other.a, other.sig)).rejects.toThrow(/not by/)
    const past = await signed(now() - 1)
    await expect(s.create(past.a, past.sig)).rejects.toThrow(/expired/)
    const far = await signed(now() + 2 * 86400)
    await expect(s.create(far.a, far.sig)).rejects.toThrow(/at most 86400 seconds ahead/)
    await expect(s.create(ok.a, ok.sig)).resolves.toMatchObject({ sender: w.address.toLowerCase() })
    await expect(s.create(ok.a, ok.sig)).rejects.toThrow(/already used/)
    // a devnet dev account needs none
    await expect(
      s.create(
        { chainId: 41232n, sender: '0x00000000000000000000000000000000000000de', files, expires: now() + 60 },
        undefined,
      ),
    ).resolves.toBeDefined()
  })

  it('bounds per sender and per node, counting uploads created at the same time', async () => {
    const s = store({ perSenderUploads: 2, nodeUploads: 3 })
    const sigs = await Promise.all([1, 2, 3].map((i) => signed(now() + 60 + i)))
    const r = await Promise.allSettled(sigs.map((x) => s.create(x.a, x.sig)))
    expect(r.filter((x) => x.status === 'fulfilled')).toHaveLength(2)
    expect(String((r.find((x) => x.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(
      /has 2 live uploads/,
    )
    expect(s.usage(w.address.toLowerCase())).toEqual({ uploads: 2, bytes: 10 })
  })

  it('checks each file against its signed sha256, and frees an expired upload with its bytes', async () => {
    const s = store()
    const bad = await signed(now() + 60)
    const u = await s.create(bad.a, bad.sig)
    await expect(s.append(u.id, 'm.onnx', 0, new Uint8Array(5))).rejects.toThrow(/not the signed .* dropped/)
    expect(existsSync(u.dir)).toBe(false)
    const short = await signed(now() + 2)
    const v = await s.create(short.a, short.sig)
    await s.append(v.id, 'm.onnx', 0, data.subarray(0, 2))
    expect(readdirSync(v.dir)).toEqual(['m.onnx'])
    await new Promise((r) => setTimeout(r, 3200))
    expect(existsSync(v.dir)).toBe(false)
    expect(() => s.take(v.id, undefined, 'request.upload')).toThrow(/no upload/)
    expect(s.usage(w.address.toLowerCase()).uploads).toBe(0)
  })
})
