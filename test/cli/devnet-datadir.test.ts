// A devnet's datadir is a datadir like any other: `lattice export` (and import/node) open it without `lattice init`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { ADDR0, ADDR1, rpc, startTestDevnet } from '../helpers/devnet.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-devnet-datadir-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

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
    const r = await runCli(['export', '--datadir', datadir, file])
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
