// The Solidity sources' house rules, checked against solc's own reading of them: NatSpec on every public or
// external function, event and custom error (a missing @param or @return fails here, not in review), one
// pragma, and one definition of the inference `Record`.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONTRACTS_ROOT, SOLC_VERSION } from '../../src/chain/contracts.ts'

interface AbiParam {
  name: string
}
interface AbiEntry {
  type: string
  name?: string
  inputs?: (AbiParam & { type: string; components?: unknown[] })[]
  outputs?: AbiParam[]
}
interface Doc {
  notice?: string
  details?: string
  params?: Record<string, string>
  returns?: Record<string, string>
}
interface Compiled {
  abi: AbiEntry[]
  userdoc: { methods: Record<string, Doc>; events?: Record<string, Doc>; errors?: Record<string, Doc[]> }
  devdoc: { methods: Record<string, Doc>; events?: Record<string, Doc>; errors?: Record<string, Doc[]> }
}
interface AstNode {
  nodeType: string
  name?: string
  visibility?: string
  stateVariable?: boolean
  nodes?: AstNode[]
}

const DIR = join(CONTRACTS_ROOT, 'contracts')
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.sol'))
  .sort()
const text = Object.fromEntries(files.map((f) => [f, readFileSync(join(DIR, f), 'utf8')]))

/** Compile contracts/ with the ABI, NatSpec and AST outputs (the build itself asks for none of the last three). */
function compileDocs(): { contracts: Record<string, Record<string, Compiled>>; asts: AstNode[] } {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string, cb?: unknown): string }
  const sources = Object.fromEntries(files.map((f) => [`contracts/${f}`, { content: text[f] }]))
  const input = {
    language: 'Solidity',
    sources,
    settings: { outputSelection: { '*': { '*': ['abi', 'userdoc', 'devdoc'], '': ['ast'] } } },
  }
  const out = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (p: string) => ({ contents: readFileSync(join(CONTRACTS_ROOT, p), 'utf8') }),
    }),
  ) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts: Record<string, Record<string, Compiled>>
    sources: Record<string, { ast: AstNode }>
  }
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  expect(errors.map((e) => e.formattedMessage)).toEqual([])
  return { contracts: out.contracts, asts: Object.values(out.sources).map((s) => s.ast) }
}

/** `name(type,…)` as solc keys its docs (tuples spelled out). */
function signature(e: AbiEntry): string {
  const type = (p: { type: string; components?: unknown[] }): string =>
    p.components
      ? `(${(p.components as { type: string; components?: unknown[] }[]).map(type).join(',')})${p.type.slice(5)}`
      : p.type
  return `${e.name}(${(e.inputs ?? []).map(type).join(',')})`
}

/** Names of public state variables per contract: their getters take @notice (solc allows no @param there). */
function publicStateVariables(asts: AstNode[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const ast of asts) {
    for (const c of ast.nodes ?? []) {
      if (c.nodeType !== 'ContractDefinition' || !c.name) continue
      const vars = (c.nodes ?? []).filter(
        (n) => n.nodeType === 'VariableDeclaration' && n.stateVariable && n.visibility === 'public',
      )
      out.set(c.name, new Set(vars.map((v) => v.name as string)))
    }
  }
  return out
}

/** What is missing from the NatSpec of one contract's ABI, one line per gap. */
function gaps(name: string, c: Compiled, getters: Set<string>): string[] {
  const missing: string[] = []
  const check = (what: string, user: Doc | undefined, dev: Doc | undefined, e: AbiEntry, params: boolean) => {
    if (!user?.notice) missing.push(`${name}: ${what} has no @notice`)
    if (!params) return
    for (const p of e.inputs ?? []) {
      if (p.name && !dev?.params?.[p.name]) missing.push(`${name}: ${what} has no @param ${p.name}`)
    }
    const outs = e.outputs ?? []
    if (outs.length && Object.keys(dev?.returns ?? {}).length !== outs.length) {
      missing.push(`${name}: ${what} documents ${Object.keys(dev?.returns ?? {}).length} of ${outs.length} @return`)
    }
  }
  for (const e of c.abi) {
    const sig = signature(e)
    if (e.type === 'function' || e.type === 'constructor') {
      // solc keys a constructor's docs as `constructor` (typed as string: a literal would read Object's property)
      const key: string = e.type === 'constructor' ? e.type : sig
      const what = e.type === 'constructor' ? e.type : `function ${sig}`
      check(what, c.userdoc.methods[key], c.devdoc.methods[key], e, !getters.has(e.name as string))
    } else if (e.type === 'event') {
      check(`event ${sig}`, c.userdoc.events?.[sig], c.devdoc.events?.[sig], e, true)
    } else if (e.type === 'error') {
      check(`error ${sig}`, c.userdoc.errors?.[sig]?.[0], c.devdoc.errors?.[sig]?.[0], e, true)
    }
  }
  return missing
}

describe('contracts/*.sol house rules', () => {
  it('every public or external function, event and custom error has @notice, @param and @return', () => {
    const { contracts, asts } = compileDocs()
    const getters = publicStateVariables(asts)
    const missing: string[] = []
    let entries = 0
    for (const [unit, byName] of Object.entries(contracts)) {
      if (!unit.startsWith('contracts/')) continue
      for (const [name, c] of Object.entries(byName)) {
        entries += c.abi.length
        missing.push(...gaps(name, c, getters.get(name) ?? new Set()))
      }
    }
    expect(missing).toEqual([])
    // the walk saw the contracts (an empty compile would pass the check above)
    expect(entries).toBeGreaterThan(100)
  }, 60_000)

  it('the checker finds a missing @notice and @param', () => {
    const c: Compiled = {
      abi: [{ type: 'error', name: 'Bad', inputs: [{ name: 'x', type: 'uint256' }] }],
      userdoc: { methods: {}, errors: {} },
      devdoc: { methods: {}, errors: {} },
    }
    expect(gaps('T', c, new Set())).toEqual([
      'T: error Bad(uint256) has no @notice',
      'T: error Bad(uint256) has no @param x',
    ])
  })

  it('one pragma in every file, satisfied by the pinned solc', () => {
    const pragmas = files.map((f) => text[f].match(/^pragma solidity ([^;]+);$/m)?.[1])
    expect(new Set(pragmas)).toEqual(new Set(['^0.8.30']))
    expect(SOLC_VERSION.startsWith('0.8.30+')).toBe(true)
  })

  it('the inference Record struct is declared once, in InferenceMerkle.sol', () => {
    const decls = files.filter((f) => /\bstruct Record\b/.test(text[f]))
    expect(decls).toEqual(['InferenceMerkle.sol'])
    for (const f of ['InferenceVerifier.sol', 'LatticeInferenceLightVerifier.sol']) {
      expect(text[f]).toMatch(/import \{[^}]*\bRecord\b[^}]*\} from "\.\/InferenceMerkle\.sol";/)
    }
  })
})
