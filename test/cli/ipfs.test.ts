import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliCommand, CliIO } from '../../src/cli/command.ts'
import { ipfsAddCommand } from '../../src/cli/commands/ipfs-add.ts'
import { ipfsGetCommand } from '../../src/cli/commands/ipfs-get.ts'
import { ipfsPackCommand } from '../../src/cli/commands/ipfs-pack.ts'
import { ipfsPinAddCommand } from '../../src/cli/commands/ipfs-pin-add.ts'
import { ipfsPinLsCommand } from '../../src/cli/commands/ipfs-pin-ls.ts'
import { ipfsPinRmCommand } from '../../src/cli/commands/ipfs-pin-rm.ts'
import { ipfsStatCommand } from '../../src/cli/commands/ipfs-stat.ts'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { StoreLockedError } from '../../src/storage/errors.ts'
import { runCli } from '../helpers/cli.ts'
import { HELLO_V0, HELLO_V1 } from '../storage/conformance.ts'
import { startKuboFixture } from '../storage/fixtures/kubo-fixture.ts'
import { makePackageDir } from '../storage/fixtures/package-dir.ts'

async function run(cmd: CliCommand, args: string[], opts: Record<string, unknown>) {
  let out = ''
  let err = ''
  const io: CliIO = {
    stdout: new Writable({
      write(c, _e, cb) {
        out += c
        cb()
      },
    }),
    stderr: new Writable({
      write(c, _e, cb) {
        err += c
        cb()
      },
    }),
    isTTY: false,
  }
  const code = (await cmd.run(args, opts, io)) ?? 0
  return { code, out, err }
}

describe('lattice ipfs commands', () => {
  let root: string
  let datadir: string
  let hello: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lattice-cli-ipfs-'))
    datadir = join(root, 'dd')
    hello = join(root, 'hello.txt')
    await writeFile(hello, 'hello world\n')
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('add prints the Kubo CID for both versions; get and stat read it back', async () => {
    expect(await run(ipfsAddCommand, [hello], { datadir, cidVersion: '1', pin: true })).toEqual({
      code: 0,
      out: `${HELLO_V1}\n`,
      err: '',
    })
    const v0 = await run(ipfsAddCommand, [hello], { datadir, cidVersion: '0', pin: true, json: true })
    expect(JSON.parse(v0.out)).toEqual({ cid: HELLO_V0, size: 12 })
    const out = join(root, 'back.txt')
    expect((await run(ipfsGetCommand, [HELLO_V0], { datadir, output: out })).code).toBe(0)
    expect(await readFile(out, 'utf8')).toBe('hello world\n')
    const st = await run(ipfsStatCommand, [HELLO_V1], { datadir, json: true })
    expect(JSON.parse(st.out)).toEqual({ cid: HELLO_V1, type: 'file', size: 12 })
  })

  it('bad input is a message and exit code 1', async () => {
    // through the CLI's runner, which prints a command's error and exits 1
    const missing = await runCli(['ipfs', 'add', join(root, 'nope'), '--datadir', datadir])
    expect(missing).toMatchObject({ code: 1, out: '' })
    expect(missing.err).toBe(`error: No file at ${join(root, 'nope')}. Pass the path of a file to add.\n`)
    const v2 = await runCli(['ipfs', 'add', hello, '--datadir', datadir, '--cid-version', '2'])
    expect(v2).toMatchObject({ code: 1, err: expect.stringMatching(/Use 0 or 1/) })
    const noOut = await runCli(['ipfs', 'get', HELLO_V1, '--datadir', datadir])
    expect(noOut).toMatchObject({ code: 1, err: expect.stringMatching(/Pass -o/) })
  })

  it('pack prints manifest CID, digest and commitment; pin add/ls/rm manage the package', async () => {
    await makePackageDir(join(root, 'pkg'))
    const packed = JSON.parse(
      (
        await run(ipfsPackCommand, [join(root, 'pkg')], {
          datadir,
          cidVersion: '1',
          modelType: 'classifier',
          pin: false,
          json: true,
        })
      ).out,
    )
    expect(packed.manifestCid).toMatch(/^bafk/)
    expect(packed.digest).toMatch(/^0x[0-9a-f]{64}$/)
    expect(packed.commitment).toMatch(/^0x[0-9a-f]{64}$/)
    const text = await run(ipfsPackCommand, [join(root, 'pkg')], {
      datadir,
      cidVersion: '1',
      modelType: 'classifier',
      pin: true,
    })
    expect(text.out).toContain(`Manifest CID: ${packed.manifestCid}`)
    expect(text.out).toContain(`Digest:       ${packed.digest}`)
    const added = await run(ipfsPinAddCommand, [packed.manifestCid], { datadir, digest: packed.digest, json: true })
    expect(JSON.parse(added.out)).toMatchObject({ kind: 'package', modelType: 'classifier' })
    const ls = JSON.parse((await run(ipfsPinLsCommand, [], { datadir, json: true })).out)
    expect(ls.summary).toMatchObject({ pinnedModels: 1, byType: { classifier: { models: 1 } } })
    const st = JSON.parse((await run(ipfsStatCommand, [packed.manifestCid], { datadir, json: true })).out)
    expect(st.package).toMatchObject({ digest: packed.digest, commitment: packed.commitment, model: 'model.onnx' })
    await run(ipfsPinRmCommand, [packed.manifestCid], { datadir })
    expect(JSON.parse((await run(ipfsPinLsCommand, [], { datadir, json: true })).out).summary.pinnedModels).toBe(0)
  })

  it('says clearly when a node holds the datadir store', async () => {
    const held = await createEmbeddedModelStore({ datadir })
    try {
      const err = await run(ipfsStatCommand, [HELLO_V1], { datadir }).catch((e) => e)
      expect(err).toBeInstanceOf(StoreLockedError)
      expect(err.shortMessage).toMatch(/in use by another process.*--ipfs-api/)
    } finally {
      await held.close()
    }
  })

  it('works against a Kubo daemon with --ipfs-api', async () => {
    const fixture = await startKuboFixture({ dir: join(root, 'kubo') })
    try {
      const r = await run(ipfsAddCommand, [hello], { datadir, ipfsApi: fixture.url, cidVersion: '0', pin: true })
      expect(r.out).toBe(`${HELLO_V0}\n`)
      expect(fixture.pins.has(HELLO_V0)).toBe(true)
      await mkdir(join(root, 'o'), { recursive: true })
      await run(ipfsGetCommand, [HELLO_V0], { datadir, ipfsApi: fixture.url, output: join(root, 'o', 'h') })
      expect(await readFile(join(root, 'o', 'h'), 'utf8')).toBe('hello world\n')
    } finally {
      await fixture.close()
    }
  })
})
