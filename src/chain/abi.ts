// Contract ABIs come from the solc build (`npm run contracts:build` writes contracts/abi/<Name>.json), never
// from hand-written copies; test/chain/abi.test.ts fails when a file differs from a fresh compile.
import { readFileSync } from 'node:fs'
import { ContractCompileError } from './errors.ts'

/** Where the build writes one ABI per contract of contracts/ (relative to the repository root). */
export const ABI_DIR = 'contracts/abi'

/** Contracts whose ABI the node and CLI read. */
export type LatticeContract =
  | 'ModelRegistry'
  | 'IPFSIncentives'
  | 'InferenceVerifier'
  | 'LatticeInferenceLightVerifier'
  | 'ILatticeInference'
  | 'IInferenceMarket'
  | 'InferenceMarket'
  | 'IInferenceConsumer'

const cache = new Map<string, readonly unknown[]>()

/** The ABI of a contract in contracts/, as solc emitted it (ethers' `Interface` and viem take it as is). */
export function contractAbi(name: LatticeContract): readonly unknown[] {
  let abi = cache.get(name)
  if (!abi) {
    const url = new URL(`../../${ABI_DIR}/${name}.json`, import.meta.url)
    try {
      abi = JSON.parse(readFileSync(url, 'utf8')) as unknown[]
    } catch (err) {
      throw new ContractCompileError(
        `No ABI for ${name} at ${url.pathname} (${(err as Error).message}). Run \`npm run contracts:build\`.`,
      )
    }
    cache.set(name, abi)
  }
  return abi
}
