/**
 * An eth_call's state revert with and without patches/lru-cache-*-clear-live.patch, in the same run (issue 17).
 * Two child processes each start an in-process devnet (no examples) and serve `node.execute` calls at the head,
 * the way eth_call runs them: "patched" imports lru-cache as installed; "previous" imports a copy of it with the
 * patch's hunks taken back out (a module resolve hook sends the bare `lru-cache` import there). Rounds alternate
 * between the two; printed: process CPU and wall per call, medians over rounds, and patched/previous per round.
 *
 *   node --import tsx bench/call-revert.ts [--rounds 6] [--calls 1000] [--bytes 4]
 *
 * `--bytes 111000` sends that much calldata (ppocr-det's input is ~111 KB) to an account without code.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { parsePatch } from '../scripts/apply-patches.mjs'
import { fmtMs, median, spread } from './stats.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    calls: { type: 'string', default: '1000' },
    bytes: { type: 'string', default: '4' },
    child: { type: 'boolean', default: false },
  },
})
const CALLS = Number(values.calls)
const BYTES = Number(values.bytes)

interface Sample {
  wall: number
  cpu: number
}

/** Child: a devnet in this process; one line of JSON per "run" line on stdin. */
async function child(): Promise<void> {
  await import('../src/polyfills.ts')
  const { createAddressFromString } = await import('@ethereumjs/util')
  const { startDevnet } = await import('../src/cli/devnet.ts')
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-call-revert-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  const from = devnet.accounts[0].address
  const to = createAddressFromString(`0x${'42'.repeat(20)}`)
  const data = new Uint8Array(BYTES).map((_, i) => (i * 7919) % 251)
  const call = () => devnet.node.execute({ from, to, data, gas: 16_000_000n }, devnet.node.chain.head)
  for (let i = 0; i < 300; i++) await call()
  process.stdout.write('ready\n')
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'run') break
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < CALLS; i++) await call()
    const wall = (performance.now() - t0) / CALLS
    const c = process.cpuUsage(c0)
    process.stdout.write(`${JSON.stringify({ wall, cpu: (c.user + c.system) / 1000 / CALLS })}\n`)
  }
  await devnet.close()
  rmSync(datadir, { recursive: true, force: true })
}

/** The installed lru-cache with the patch's hunks taken back out, and a resolve hook that imports it instead. */
function previousLruCache(dir: string): string {
  const root = join(import.meta.dirname, '..')
  const name = readdirSync(join(root, 'patches')).find((n) => /^lru-cache-.*-clear-live\.patch$/.test(n))
  if (!name) throw new Error('no lru-cache clear-live patch in patches/')
  const [file] = parsePatch(readFileSync(join(root, 'patches', name), 'utf8'))
  let text = readFileSync(join(root, file.path), 'utf8')
  for (const h of file.hunks) {
    if (text.split(h.new).length !== 2) throw new Error(`${name}: the installed lru-cache is not patched as expected`)
    text = text.replace(h.new, () => h.old)
  }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'lru-cache.mjs'), text)
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `export async function resolve(spec, ctx, next) {\n` +
      `  if (spec === 'lru-cache') return { url: ${JSON.stringify(pathToFileURL(join(dir, 'lru-cache.mjs')).href)}, shortCircuit: true }\n` +
      `  return next(spec, ctx)\n}\n`,
  )
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)})\n`,
  )
  return join(dir, 'register.mjs')
}

interface Runner {
  proc: ChildProcess
  next: () => Promise<string>
}

function startChild(imports: string[]): Runner {
  const proc = spawn(
    process.execPath,
    [...imports.flatMap((i) => ['--import', i]), fileURLToPath(import.meta.url), '--child', ...process.argv.slice(2)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]()
  return {
    proc,
    next: async () => {
      const r = await lines.next()
      if (r.done) throw new Error('a bench child exited')
      return r.value
    },
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-call-revert-lru-'))
  const runners: Record<'patched' | 'previous', Runner> = {
    patched: startChild(['tsx']),
    previous: startChild(['tsx', previousLruCache(dir)]),
  }
  const samples: Record<string, Sample[]> = { patched: [], previous: [] }
  try {
    for (const r of Object.values(runners)) if ((await r.next()) !== 'ready') throw new Error('a child did not start')
    const rounds = Number(values.rounds)
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['patched', 'previous'] as const) : (['previous', 'patched'] as const)
      for (const k of order) {
        runners[k].proc.stdin!.write('run\n')
        const s = JSON.parse(await runners[k].next()) as Sample
        samples[k].push(s)
        console.log(`round ${round + 1}/${rounds} ${k}: ${JSON.stringify(s)}`)
      }
    }
  } finally {
    for (const r of Object.values(runners)) r.proc.stdin!.end('stop\n')
    rmSync(dir, { recursive: true, force: true })
  }
  const per = (f: (s: Sample) => number) => samples.patched.map((s, i) => f(s) / f(samples.previous[i]))
  console.log(
    `\nnode ${process.version}, ${new Date().toISOString()}, load ${loadavg()[0].toFixed(1)}: ${values.rounds} alternating rounds of ` +
      `${CALLS} in-process head calls with ${BYTES} bytes of calldata to an account without code, each in its own process`,
  )
  console.log('| lru-cache | wall ms per call | CPU ms per call |')
  console.log('| --- | ---: | ---: |')
  for (const k of ['previous', 'patched'] as const) {
    const w = samples[k].map((s) => s.wall)
    const c = samples[k].map((s) => s.cpu)
    console.log(`| ${k} | ${fmtMs(median(w))} (${spread(w)}) | ${fmtMs(median(c))} (${spread(c)}) |`)
  }
  const rw = per((s) => s.wall)
  const rc = per((s) => s.cpu)
  console.log(
    `| patched / previous, per round | ${median(rw).toFixed(3)}x (${spread(rw)}) | ${median(rc).toFixed(3)}x (${spread(rc)}) |`,
  )
}

if (values.child) await child()
else await main()
