// Summaries of a V8 CPU profile (node:inspector's Profiler.stop) for the bench profilers: self time per package
// and per function, and optionally inclusive time per named phase. Shared by bench/devnet-profile.ts and
// bench/precompile-profile.ts.

export interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

export interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** A phase: its label, and the function name and file a frame must match to be in it. */
export type Phase = readonly [label: string, name: RegExp, file: RegExp]

/** Busy µs in all, and µs per package and per function (self), and per phase (inclusive). */
export interface ProfileSummary {
  total: number
  pkg: Map<string, number>
  fn: Map<string, number>
  phase: Map<string, number>
}

/** Where a frame's code lives: an npm package, a folder of src/, a node builtin, or native. */
export function where(url: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]
  if (url.includes('/src/'))
    return `lattice ${url
      .slice(url.indexOf('/src/') + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`
  return url.startsWith('node:') ? 'node' : url === '' ? '(native/gc/idle)' : url
}

/** Sum a profile's samples (idle excluded). Native frames are charged to the nearest JavaScript caller. */
/** Prints a profile's self time by package and by function (the `top` largest), in ms per `unit` of `n`. */
export function printProfile(p: Profile, top: number, n: number, unit: string, digits: number): void {
  const { total, pkg, fn } = summariseProfile(p)
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n| ${title} | self ms per ${unit} | share |\n| --- | ---: | ---: |`)
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`| ${k} | ${(us / 1000 / n).toFixed(3)} | ${((100 * us) / total).toFixed(1)}% |`)
    }
  }
  console.log(`\nbusy CPU ${(total / 1000 / n).toFixed(digits)} ms per ${unit} (idle excluded)`)
  show('package', pkg)
  show('function', fn)
}

export function summariseProfile(p: Profile, phases: readonly Phase[] = []): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const caller = (id: number): ProfileNode | undefined => {
    for (let q = parent.get(id); q !== undefined; q = parent.get(q)) if (byId.get(q)!.callFrame.url) return byId.get(q)
    return undefined
  }
  // the profiler's own work (Profiler.stop serialising the profile through session.post) is not the workload's
  const inProfiler = (id: number): boolean => {
    for (let q: number | undefined = id; q !== undefined; q = parent.get(q)) {
      const cf = byId.get(q)!.callFrame
      if (cf.functionName === 'post' && cf.url === 'node:inspector') return true
    }
    return false
  }
  const self = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + p.timeDeltas[i])
  const out: ProfileSummary = { total: 0, pkg: new Map(), fn: new Map(), phase: new Map() }
  for (const [id, us] of self) {
    const n = byId.get(id)!
    if (n.callFrame.functionName === '(idle)' || inProfiler(id)) continue
    out.total += us
    const js = n.callFrame.url ? n : caller(id)
    const w = js ? where(js.callFrame.url) : '(gc/program)'
    out.pkg.set(w, (out.pkg.get(w) ?? 0) + us)
    const name = n.callFrame.functionName || '(anonymous)'
    const f = js
      ? `${n === js ? '' : `${name} (native) in `}${js.callFrame.functionName || '(anonymous)'} ${w}:${js.callFrame.lineNumber + 1}`
      : name
    out.fn.set(f, (out.fn.get(f) ?? 0) + us)
    if (phases.length === 0) continue
    // inclusive: each phase once per sample, however often it recurses on the stack
    const seen = new Set<string>()
    for (let q: number | undefined = id; q !== undefined; q = parent.get(q)) {
      const cf = byId.get(q)!.callFrame
      for (const [label, re, file] of phases) {
        if (!seen.has(label) && re.test(cf.functionName) && file.test(cf.url)) seen.add(label)
      }
    }
    for (const label of seen) out.phase.set(label, (out.phase.get(label) ?? 0) + us)
  }
  return out
}
