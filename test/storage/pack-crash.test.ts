// A real crash: a child process adding a model is killed with SIGKILL mid-add; the next open of the pack
// keeps every indexed block intact (each verified against its CID), and adding the model again completes it.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifyBlock } from '../../src/storage/dag.ts'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { collect, expectSameBytes } from './conformance.ts'
import { patternBytes } from './fixtures/data.ts'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lattice-pack-crash-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('pack after kill -9 mid-add', () => {
  it('opens, keeps what was indexed intact, and a second add completes the model', { timeout: 180_000 }, async () => {
    const size = 96 << 20
    const datadir = join(root, 'n')
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'add-until-killed.ts'), datadir, String(size)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    try {
      // kill once 24 MiB went into the import, with leaves hashing and writes still in flight
      let out = ''
      const killedAt = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          const lines = out.trim().split('\n')
          const last = lines[lines.length - 1]
          if (last === 'done') reject(new Error('the add finished before it was killed'))
          else if (Number(last) >= 24 << 20) resolve(last)
        })
        child.once('exit', (code) => reject(new Error(`child exited with ${code} before the kill`)))
      })
      child.kill('SIGKILL')
      await once(child, 'exit')
      expect(Number(killedAt)).toBeLessThan(size)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    const store = await createEmbeddedModelStore({ datadir })
    try {
      const rec = store.blockstore.recovery
      let blocks = 0
      for await (const { cid } of store.blockstore.getAll()) {
        verifyBlock(cid, await store.blockstore.getBytes(cid))
        blocks++
      }
      // up to ~12 MiB of what was read may still have been hashing or in flight, the rest was indexed
      expect(blocks).toBeGreaterThan(0)
      console.log(`after kill -9: ${blocks} blocks kept, recovery ${JSON.stringify(rec)}`)
      const data = patternBytes(size)
      const { cid } = await store.add(data)
      expectSameBytes(await collect(store.cat(cid)), data)
    } finally {
      await store.close()
    }
  })
})
