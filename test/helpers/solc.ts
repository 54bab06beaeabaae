import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const solc = require('solc') as { compile(input: string): string }

export interface Compiled {
  abi: any[]
  bytecode: `0x${string}`
}

const cache = new Map<string, Compiled>()

/** Compile one contract from a .sol file with solc-js (real compiler, no artifacts on disk). */
export function compileContract(path: string, name: string): Compiled {
  const key = `${path}:${name}`
  const hit = cache.get(key)
  if (hit) return hit
  const input = {
    language: 'Solidity',
    sources: { [path]: { content: readFileSync(path, 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input)))
  const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === 'error')
  if (errors.length) throw new Error(errors.map((e: { formattedMessage: string }) => e.formattedMessage).join('\n'))
  const c = out.contracts[path][name]
  const compiled = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` as `0x${string}` }
  cache.set(key, compiled)
  return compiled
}

export const COUNTER_SOL = new URL('../fixtures/Counter.sol', import.meta.url).pathname
