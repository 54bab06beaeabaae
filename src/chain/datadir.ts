import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Block } from '@ethereumjs/block'
import type { EVMOpts } from '@ethereumjs/evm'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import { Chain } from './chain.ts'
import { DatadirMismatchError, DatadirNotInitialisedError, GenesisError } from './errors.ts'
import type { ChainSpec } from './genesis.ts'
import { parseChainSpec } from './genesis.ts'

/** Where `lattice init` keeps the chain spec inside a datadir. */
export const DATADIR_GENESIS = 'genesis.json'

export interface InitDatadirOpts {
  datadir: string
  /** Path of a geth-format genesis file. */
  genesisPath: string
}

/**
 * Validate a geth-format genesis, store it in the datadir and write the genesis block and state.
 * Running it again with the same genesis is a no-op; with another genesis it fails.
 */
export async function initDatadir(opts: InitDatadirOpts): Promise<{ spec: ChainSpec; genesis: Block }> {
  let text: string
  try {
    text = readFileSync(opts.genesisPath, 'utf8')
  } catch (err) {
    throw new GenesisError(
      `Cannot read genesis file ${opts.genesisPath}: ${(err as Error).message}. Pass --genesis with a geth-format genesis.json.`,
    )
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new GenesisError(`${opts.genesisPath} is not JSON: ${(err as Error).message}`)
  }
  const spec = parseChainSpec(raw)
  const target = join(opts.datadir, DATADIR_GENESIS)
  if (existsSync(target)) {
    const existing = JSON.stringify(JSON.parse(readFileSync(target, 'utf8')))
    if (existing !== JSON.stringify(raw)) throw new DatadirMismatchError(opts.datadir)
  }
  mkdirSync(opts.datadir, { recursive: true })
  const chain = await Chain.open({ datadir: opts.datadir, spec })
  try {
    if (!existsSync(target)) writeFileSync(target, `${JSON.stringify(raw, null, 2)}\n`)
    return { spec, genesis: chain.blockchain.genesisBlock }
  } finally {
    await chain.close()
  }
}

/**
 * Store `spec` as the datadir's genesis when it has none (a devnet's datadir), so that `lattice export`,
 * `lattice import` and `lattice node` open it without a separate `lattice init`.
 */
export function recordDatadirSpec(datadir: string, spec: ChainSpec): void {
  const target = join(datadir, DATADIR_GENESIS)
  if (existsSync(target)) return
  mkdirSync(datadir, { recursive: true })
  writeFileSync(target, `${JSON.stringify(spec.geth, null, 2)}\n`)
}

/** The chain spec `lattice init` stored in `datadir`. */
export function loadDatadirSpec(datadir: string): ChainSpec {
  const path = join(datadir, DATADIR_GENESIS)
  if (!existsSync(path)) throw new DatadirNotInitialisedError(datadir)
  return parseChainSpec(JSON.parse(readFileSync(path, 'utf8')))
}

/** Open the chain of an initialised datadir; pass `inference` for a node that executes inference blocks. */
export async function openDatadirChain(
  datadir: string,
  opts: { evmOpts?: Partial<EVMOpts>; inference?: InferencePrecompile } = {},
): Promise<Chain> {
  return Chain.open({ datadir, spec: loadDatadirSpec(datadir), evmOpts: opts.evmOpts, inference: opts.inference })
}
