// A compiled-artifact cache on disk for the tests. solc-js compiling Lattice's contracts took 58 s (the system
// contracts), 24 s (the examples) and 6 s (Counter) on the loaded 2-core machine, and each test file runs in its
// own process, so the in-process memo of src/chain/contracts.ts does not carry from one file to the next. The
// key is the pinned solc release, the options and every Solidity source the compile can read, so an edited
// contract compiles again. test/chain/contracts.test.ts still compiles for real (it tests the compile).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import type { CompileContractsOpts, ContractArtifact } from '../../src/chain/contracts.ts'
import { CONTRACTS_ROOT, compileContracts, SOLC_VERSION } from '../../src/chain/contracts.ts'

/** Where cached results live: under build/ (gitignored), so a clean clone starts empty. */
const CACHE_DIR = join(CONTRACTS_ROOT, 'build', 'test-solc')

/** The directories whose `.sol` files a compile may read: sources and imports (all resolve under the root). */
const SOURCE_DIRS = ['contracts', 'examples/contracts', 'test/fixtures']

function solFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.sol'))
    .sort()
    .map((f) => join(dir, f))
}

/** sha256 over the solc release, `parts` and the name and bytes of every Solidity source under `root`. */
export function sourcesKey(root: string, parts: unknown, extra: string[] = []): string {
  const hash = createHash('sha256').update(SOLC_VERSION).update(JSON.stringify(parts))
  const files = [...SOURCE_DIRS.flatMap((d) => solFiles(join(root, d))), ...extra]
  for (const f of files) hash.update(f).update('\0').update(readFileSync(f)).update('\0')
  return hash.digest('hex')
}

/** The cached value under `key`, or `make()`'s, written atomically (two workers may fill the same key). */
export function cached<T>(key: string, make: () => T): T {
  const file = join(CACHE_DIR, `${key}.json`)
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    // not cached yet (or a torn file from an older layout): compile
  }
  const value = make()
  try {
    mkdirSync(CACHE_DIR, { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(value))
    renameSync(tmp, file)
  } catch {
    // a read-only checkout: compile again next time
  }
  return value
}

/** `compileContracts(opts)` through the disk cache (warnings are not cached: pass `onWarning` to compile). */
export function compileContractsCached(opts: CompileContractsOpts = {}): Record<string, ContractArtifact> {
  if (opts.onWarning) return compileContracts(opts)
  const root = opts.root ?? CONTRACTS_ROOT
  const extra = [
    ...solFiles(join(root, opts.dir ?? 'contracts')),
    ...(opts.extraSources ?? []).map((f) => (isAbsolute(f) ? f : join(root, f))),
  ]
  const key = sourcesKey(root, { fn: 'compileContracts', ...opts, root }, extra)
  return cached(key, () => compileContracts(opts))
}
