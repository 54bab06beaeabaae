// A devnet's datadir is a datadir like any other: `lattice export` (and import/node) open it without `lattice init`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { RLP } from '@ethereumjs/rlp'
import { afterAll, describe, expect, it } from 'vitest'
import type { CliIO } from '../../src/cli/command.ts'
import { loadCommands } from '../../src/cli/commands.ts'
import { buildProgram } from '../../src/cli/main.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-devnet-datadir-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        f(String(chunk))
        cb()
      },
    })
  const io: CliIO = { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), isTTY: false }
  let code = 0
  const program = buildProgram(await loadCommands(), io, (c) => (code = c))
  program.exitOverride()
  try {
    await program.parseAsync(['node', 'lattice', ...argv])
  } catch (e) {
    err += (e as Error).message
    code = 1
  }
  return { code, out, err }
}

describe("a devnet's datadir", () => {
  it('exports with `lattice export --datadir` and no `lattice init`', async () => {
    const datadir = join(tmp, 'dd')
    const devnet = await startTestDevnet({ datadir })
    try {
      for (let i = 0; i < 3; i++) {
        const r = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
        expect(r.error).toBeUndefined()
      }
    } finally {
      await devnet.stop()
    }
    const file = join(tmp, 'chain.rlp')
    const r = await cli(['export', '--datadir', datadir, file])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain('Exported 3 blocks')
    // three RLP blocks back to back
    let rest: Uint8Array = readFileSync(file)
    let blocks = 0
    while (rest.length > 0) {
      const d = RLP.decode(rest, true)
      rest = d.remainder
      blocks++
    }
    expect(blocks).toBe(3)
  })
})
