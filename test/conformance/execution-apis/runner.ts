import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { importBlockFile } from '../../../src/chain/blockfile.ts'
import { initDatadir, openDatadirChain } from '../../../src/chain/datadir.ts'
import { startNode } from '../../../src/cli/node.ts'

/** The execution-apis suite, `../shared/conformance/execution-apis/tests` beside the repository. */
export const SUITE_DIR = resolve(
  new URL('../../../', import.meta.url).pathname,
  '../shared/conformance/execution-apis/tests',
)

/** One `.io` file: optional `//` comments, then `>>` request / `<<` response pairs. */
export interface IoCase {
  name: string
  specOnly: boolean
  exchanges: { request: string; response: string }[]
}

/**
 * Files that fail for a reason we accept, with that reason. A file listed here still runs and
 * still counts as failed; the test suite only fails on failures that are not listed.
 */
export const KNOWN_FAILURES: Record<string, string> = {}

export interface CaseResult {
  name: string
  ok: boolean
  /** One line saying where the first difference is. */
  diff?: string
}

/** Every `.io` file of the suite, in alphabetical order of `<method>/<file>`. */
export function loadCases(dir = SUITE_DIR): IoCase[] {
  const out: IoCase[] = []
  for (const method of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of readdirSync(join(dir, method.name)).filter((x) => x.endsWith('.io'))) {
      const text = readFileSync(join(dir, method.name, f), 'utf8')
      const exchanges: IoCase['exchanges'] = []
      let specOnly = false
      let pending: string | undefined
      for (const line of text.split('\n')) {
        if (line.startsWith('//')) {
          if (line.includes('speconly')) specOnly = true
        } else if (line.startsWith('>>')) pending = line.slice(2).trim()
        else if (line.startsWith('<<') && pending !== undefined) {
          exchanges.push({ request: pending, response: line.slice(2).trim() })
          pending = undefined
        }
      }
      out.push({ name: `${method.name}/${f}`, specOnly, exchanges })
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * Compare a response with the expected one by hive's rules: when both hold an `error`, its
 * `message` is dropped; numbers compare by value; everything else must be equal.
 * Returns undefined when equal, else a one-line description of the first difference.
 */
export function compareResponses(actual: unknown, expected: unknown, specOnly: boolean): string | undefined {
  const a = structuredClone(actual) as Record<string, unknown>
  const e = structuredClone(expected) as Record<string, unknown>
  if (isObj(a) && isObj(e) && isObj(a.error) && isObj(e.error)) {
    delete (a.error as Record<string, unknown>).message
    delete (e.error as Record<string, unknown>).message
  }
  if (specOnly) {
    if (isObj(a) && 'error' in a && isObj(e) && !('error' in e)) return `error ${short(a.error)}, want a result`
    return shapeDiff(a.result, e.result, 'result')
  }
  return valueDiff(a, e, '')
}

function valueDiff(a: unknown, e: unknown, path: string): string | undefined {
  if (typeof a === 'number' && typeof e === 'number') return a === e ? undefined : `${path}: ${a} != ${e}`
  if (Array.isArray(e)) {
    if (!Array.isArray(a)) return `${path}: got ${short(a)}, want an array`
    if (a.length !== e.length) return `${path}: ${a.length} items, want ${e.length}`
    for (let i = 0; i < e.length; i++) {
      const d = valueDiff(a[i], e[i], `${path}[${i}]`)
      if (d) return d
    }
    return undefined
  }
  if (isObj(e)) {
    if (!isObj(a)) return `${path}: got ${short(a)}, want ${short(e)}`
    for (const k of Object.keys(e)) {
      if (!(k in a)) return `${path}.${k}: missing, want ${short(e[k])}`
      const d = valueDiff(a[k], e[k], `${path}.${k}`)
      if (d) return d
    }
    for (const k of Object.keys(a)) if (!(k in e)) return `${path}.${k}: unexpected ${short(a[k])}`
    return undefined
  }
  return a === e ? undefined : `${path}: got ${short(a)}, want ${short(e)}`
}

/** Same JSON types and the expected object keys present (for `speconly` files). */
function shapeDiff(a: unknown, e: unknown, path: string): string | undefined {
  const t = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
  if (t(a) !== t(e)) return `${path}: got ${t(a)} ${short(a)}, want ${t(e)}`
  if (Array.isArray(e) && Array.isArray(a) && e.length > 0) {
    for (let i = 0; i < a.length; i++) {
      const d = shapeDiff(a[i], e[Math.min(i, e.length - 1)], `${path}[${i}]`)
      if (d) return d
    }
  }
  if (isObj(e) && isObj(a)) {
    // maps keyed by data (address -> nonce -> tx): any keys, values shaped like the expected ones
    const keys = Object.keys(e)
    if (keys.length > 0 && keys.every((k) => /^(0x[0-9a-fA-F]*|\d+)$/.test(k))) {
      for (const k of Object.keys(a)) {
        const d = shapeDiff(a[k], e[k] ?? e[keys[0]], `${path}.${k}`)
        if (d) return d
      }
      return undefined
    }
    for (const k of Object.keys(e)) {
      if (!(k in a)) return `${path}.${k}: missing`
      const d = shapeDiff(a[k], e[k], `${path}.${k}`)
      if (d) return d
    }
  }
  return undefined
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const short = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 90 ? `${s.slice(0, 87)}...` : s
}

export interface RunOpts {
  suiteDir?: string
  /** Only files whose name matches. The node's state is shared, so a subset may differ from a full run. */
  filter?: (name: string) => boolean
  onResult?: (r: CaseResult) => void
}

/** Init a datadir from the suite's genesis, import chain.rlp, start a node, replay every file. */
export async function runConformance(opts: RunOpts = {}): Promise<CaseResult[]> {
  const dir = opts.suiteDir ?? SUITE_DIR
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-conformance-'))
  try {
    await initDatadir({ datadir, genesisPath: join(dir, 'genesis.json') })
    const chain = await openDatadirChain(datadir)
    try {
      await importBlockFile(chain, join(dir, 'chain.rlp'))
    } finally {
      await chain.close()
    }
    // hive's node has no consensus client: submitted transactions stay in the pool
    const running = await startNode({ datadir, port: 0, mining: { kind: 'off' }, testingApi: true })
    const results: CaseResult[] = []
    try {
      for (const c of loadCases(dir)) {
        if (opts.filter && !opts.filter(c.name)) continue
        const r = await runCase(running.server.url, c)
        results.push(r)
        opts.onResult?.(r)
      }
    } finally {
      await running.close()
    }
    return results
  } finally {
    rmSync(datadir, { recursive: true, force: true })
  }
}

async function runCase(url: string, c: IoCase): Promise<CaseResult> {
  for (const [i, x] of c.exchanges.entries()) {
    let actual: unknown
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: x.request })
      actual = JSON.parse(await res.text())
    } catch (err) {
      return { name: c.name, ok: false, diff: `request ${i}: ${(err as Error).message}` }
    }
    const d = compareResponses(actual, JSON.parse(x.response), c.specOnly)
    if (d) return { name: c.name, ok: false, diff: c.exchanges.length > 1 ? `#${i} ${d}` : d }
  }
  return { name: c.name, ok: true }
}
