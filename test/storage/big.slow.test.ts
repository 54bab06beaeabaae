// 1 GiB through the embedded store and back, with the test process's peak RSS held under 300 MB.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { writePatternFile } from './fixtures/data.ts'

const GiB = 1024 ** 3

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer)
  return h.digest('hex')
}

describe('1 GiB round trip', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lattice-1gib-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('adds and gets 1 GiB with peak RSS under 300 MB', { timeout: 240_000 }, async () => {
    const src = join(dir, 'src.bin')
    await writePatternFile(src, GiB)
    const expected = await sha256(src)
    let peak = 0
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage.rss())
    }
    const timer = setInterval(sample, 25)
    const store = await createEmbeddedModelStore({ datadir: join(dir, 'node') })
    try {
      const added = await store.add({ path: src }, { pin: true })
      sample()
      expect(added.size).toBe(GiB)
      const out = join(dir, 'out.bin')
      await store.get(added.cid, out)
      sample()
      expect((await stat(out)).size).toBe(GiB)
      expect(await sha256(out)).toBe(expected)
    } finally {
      clearInterval(timer)
      await store.close()
    }
    // maxRSS (KiB) is the kernel's high-water mark for the whole test process, samples can miss spikes
    const maxRss = process.resourceUsage().maxRSS * 1024
    console.log(
      `1 GiB round trip: sampled peak RSS ${(peak / 1e6).toFixed(0)} MB, maxRSS ${(maxRss / 1e6).toFixed(0)} MB`,
    )
    expect(peak).toBeLessThan(300e6)
    expect(maxRss).toBeLessThan(300e6)
  })
})
