import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { cached, sourcesKey } from './compile-cache.ts'

const require = createRequire(import.meta.url)
interface Solc {
  compile(input: string, callbacks?: { import(path: string): { contents?: string; error?: string } }): string
}
// loaded on the first compile the disk cache misses: solc-js's wasm takes a second or more to start
let solcJs: Solc | undefined
const solc = (): Solc => {
  solcJs ??= require('solc') as Solc
  return solcJs
}

export const REPO_ROOT = new URL('../../', import.meta.url).pathname

export interface Compiled {
  abi: any[]
  bytecode: `0x${string}`
}

const cache = new Map<string, Compiled>()

/** Compile one contract from a .sol file with solc-js (real compiler, imports resolved from the repo). */
export function compileContract(path: string, name: string): Compiled {
  const key = `${path}:${name}`
  const hit = cache.get(key)
  if (hit) return hit
  // on disk too: each test file is its own process, and solc-js takes seconds to start and compile
  const compiled = cached(sourcesKey(REPO_ROOT, { fn: 'compileContract', path, name }, [path]), () =>
    compile(path, name),
  )
  cache.set(key, compiled)
  return compiled
}

function compile(path: string, name: string): Compiled {
  const unit = relative(REPO_ROOT, path)
  const input = {
    language: 'Solidity',
    sources: { [unit]: { content: readFileSync(path, 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'prague',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  }
  const out = JSON.parse(
    solc().compile(JSON.stringify(input), {
      import: (p) => {
        try {
          return { contents: readFileSync(join(REPO_ROOT, p), 'utf8') }
        } catch {
          return { error: `not found: ${p}` }
        }
      },
    }),
  )
  const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === 'error')
  if (errors.length) throw new Error(errors.map((e: { formattedMessage: string }) => e.formattedMessage).join('\n'))
  const c = out.contracts[unit][name]
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` as `0x${string}` }
}

export const COUNTER_SOL = new URL('../fixtures/Counter.sol', import.meta.url).pathname
