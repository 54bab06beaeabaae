/**
 * Embedded model store throughput against this machine's own bound, measured in the same run:
 * sha256 of the same 1 GiB file read from disk (what any verified add or get must at least do).
 * Prints MB/s for each, the ratio store/bound (higher is better; 1.00x = as fast as hashing the file)
 * and the peak RSS of this process.
 *
 *   npm run bench:storage [-- --size-mib 1024 --runs 3]
 */
import '../src/polyfills.ts'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createEmbeddedModelStore } from '../src/storage/embedded.ts'
import { writePatternFile } from '../test/storage/fixtures/data.ts'

const { values } = parseArgs({
  options: { 'size-mib': { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } },
})
const SIZE = Number(values['size-mib']) * 1024 * 1024
const RUNS = Number(values.runs)

let peak = 0
const sample = () => {
  peak = Math.max(peak, process.memoryUsage.rss())
}
const timer = setInterval(sample, 20)

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now()
  const value = await fn()
  return { ms: performance.now() - t, value }
}

/** Plain copy, 1 MiB at a time: the disk's share of add/get, shown for context. */
async function copyFile(from: string, to: string): Promise<void> {
  const { open } = await import('node:fs/promises')
  const out = await open(to, 'w')
  for await (const c of createReadStream(from, { highWaterMark: 1 << 20 })) await out.write(c as Buffer)
  await out.close()
}

/** One 256 KiB file per block, as blockstore-fs stored them before packs: what that layout cost, for context. */
async function writeBlockFiles(from: string, to: string): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises')
  await mkdir(to, { recursive: true })
  for (let d = 0; d < 64; d++) await mkdir(join(to, String(d)))
  const inflight = new Set<Promise<unknown>>()
  let i = 0
  for await (const c of createReadStream(from, { highWaterMark: 262_144 })) {
    const n = i++
    const p: Promise<unknown> = writeFile(join(to, String(n % 64), `b${n}`), c as Buffer, { flag: 'wx' }).then(() =>
      inflight.delete(p),
    )
    inflight.add(p)
    while (inflight.size >= 32) await Promise.race(inflight)
  }
  await Promise.all(inflight)
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer)
  return h.digest('hex')
}

const dir = await mkdtemp(join(tmpdir(), 'lattice-bench-storage-'))
try {
  const src = join(dir, 'src.bin')
  await writePatternFile(src, SIZE)
  const expected = await sha256File(src) // also warms the page cache for every contender
  const best = {
    bound: Number.POSITIVE_INFINITY,
    copy: Number.POSITIVE_INFINITY,
    files: Number.POSITIVE_INFINITY,
    add: Number.POSITIVE_INFINITY,
    get: Number.POSITIVE_INFINITY,
  }
  for (let run = 0; run < RUNS; run++) {
    best.bound = Math.min(best.bound, (await timed(() => sha256File(src))).ms)
    best.copy = Math.min(best.copy, (await timed(() => copyFile(src, join(dir, 'copy.bin')))).ms)
    await rm(join(dir, 'copy.bin'), { force: true })
    best.files = Math.min(best.files, (await timed(() => writeBlockFiles(src, join(dir, 'files')))).ms)
    await rm(join(dir, 'files'), { recursive: true, force: true })
    const repo = join(dir, `node-${run}`)
    const store = await createEmbeddedModelStore({ datadir: repo })
    const add = await timed(() => store.add({ path: src }))
    best.add = Math.min(best.add, add.ms)
    const out = join(dir, 'out.bin')
    best.get = Math.min(best.get, (await timed(() => store.get(add.value.cid, out))).ms)
    if ((await sha256File(out)) !== expected) throw new Error('bench: round trip changed the bytes')
    await store.close()
    await rm(repo, { recursive: true, force: true })
    await rm(out, { force: true })
  }
  sample()
  const mbs = (ms: number) => SIZE / 1e6 / (ms / 1000)
  const rows = [
    ['sha256 of the file (bound)', best.bound],
    ['plain copy of the file (context: read + write, no hashing)', best.copy],
    ['file per 256 KiB block, no hashing (context: the blockstore-fs layout before packs)', best.files],
    ['embedded add (import, hash on workers, write the pack)', best.add],
    ['embedded get (read the pack, verify every block, write file)', best.get],
  ] as const
  console.log(`\n${(SIZE / 1024 ** 3).toFixed(2)} GiB, best of ${RUNS}, Node ${process.versions.node}\n`)
  console.log('| operation | ms | MB/s | ratio to sha256 bound |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const [name, ms] of rows) {
    console.log(`| ${name} | ${ms.toFixed(0)} | ${mbs(ms).toFixed(0)} | ${(best.bound / ms).toFixed(2)}x |`)
  }
  console.log(
    `\npeak RSS: ${(peak / 1e6).toFixed(0)} MB (maxRSS ${((process.resourceUsage().maxRSS * 1024) / 1e6).toFixed(0)} MB)`,
  )
} finally {
  clearInterval(timer)
  await rm(dir, { recursive: true, force: true })
}
