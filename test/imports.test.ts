// The import graph of src/ (issue 14: no import cycle; STYLE.md: imports point one way, inference and storage
// are leaves). Static value imports only: `import type` is erased, and `await import()` inside a function runs
// after every module has loaded, so neither can form a load-time cycle.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = new URL('../src', import.meta.url).pathname

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** file -> the src files it imports as values (`import x from`, `import { a }`, `export ... from`, `import './x'`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    const deps: string[] = []
    // an import or re-export clause is names, braces, commas, `*`, `as` and `type`: nothing else matches
    const re = /^(?:import|export)\s+(type\s+)?(?:([\w*{}\s,$]+?)\s+from\s+)?['"](\.[^'"]+\.ts)['"]/gm
    for (const m of text.matchAll(re)) {
      const [, typeOnly, clause = '', spec] = m
      // `import type {...}` and `import { type A, type B }` are erased
      if (typeOnly || /^\{(\s*type\s+[\w$]+(\s+as\s+[\w$]+)?\s*,?)+\s*\}$/.test(clause.trim())) continue
      deps.push(resolve(dirname(file), spec))
    }
    graph.set(file, deps)
  }
  return graph
}

/** Every cycle, as the list of files from its first member back to itself (Tarjan's strongly connected parts). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const out: string[][] = []
  const visit = (v: string) => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const part: string[] = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        part.push(relative(SRC, w))
      } while (w !== v)
      if (part.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(part.sort())
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) visit(v)
  return out
}

describe('src/ imports', () => {
  const graph = importGraph()

  it('resolve to files that exist', () => {
    // the parse finds the imports: main.ts loads the runner as a value, and the edges number in the hundreds
    expect(graph.get(join(SRC, 'cli/main.ts'))).toContain(join(SRC, 'cli/program.ts'))
    expect([...graph.values()].flat().length).toBeGreaterThan(300)
    const missing = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, f)} -> ${relative(SRC, d)}`),
    )
    expect(missing).toEqual([])
  })

  it('form no cycle', () => {
    expect(graph.size).toBeGreaterThan(100)
    expect(cycles(graph)).toEqual([])
  })

  it('inference and storage are leaves: they import nothing from the chain, precompiles, RPC or CLI', () => {
    const upward = [...graph].flatMap(([f, deps]) => {
      const from = relative(SRC, f)
      if (!/^(inference|storage)\//.test(from)) return []
      return deps
        .map((d) => relative(SRC, d))
        .filter((d) => /^(chain|precompiles|rpc|cli|engine|p2p|explorer|mcp)\//.test(d))
        .map((d) => `${from} -> ${d}`)
    })
    expect(upward).toEqual([])
  })

  it('sees a cycle when there is one (the check itself can fail)', () => {
    const a = join(SRC, 'a.ts')
    const b = join(SRC, 'b.ts')
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts']])
  })
})
