import { readFileSync } from 'node:fs'
import type { Common, GenesisState, GethGenesis } from '@ethereumjs/common'
import { createCommonFromGethGenesis, Common as EjsCommon, Mainnet, parseGethGenesisState } from '@ethereumjs/common'
import { memoiseUpdateParams } from './common-params.ts'
import { nativeCrypto } from './crypto.ts'
import { GenesisError } from './errors.ts'
import { validateGethGenesis } from './genesis-schema.ts'
import { kzg } from './kzg.ts'

/** Lattice's own section of a geth-format genesis, under `config.lattice`. */
export interface LatticeGenesisConfig {
  /** BIP-39 mnemonic whose first `devAccounts` keys are unlocked in devnet mode. */
  devMnemonic?: string
  devAccounts?: number
  /**
   * Inference profile for state-changing calls (docs/determinism.md): a consensus profile id (`consensus-v2`, the
   * default; `consensus-v1`, or its legacy name `consensus`), or `accelerated` with a `provider` (single validator).
   */
  inference?: { profile: string; provider?: string }
  /** Addresses that seal blocks. More than one forces the consensus inference profile. */
  validators?: string[]
}

export interface ChainSpec {
  /** The parsed geth-format genesis file. */
  geth: GethGenesis & { config: GethGenesis['config'] & { lattice?: LatticeGenesisConfig } }
  lattice: LatticeGenesisConfig
  chainId: bigint
  state: GenesisState
}

/** The devnet spec shipped in genesis/devnet.json. */
export const DEVNET_GENESIS_PATH = new URL('../../genesis/devnet.json', import.meta.url)

/** Load a geth-format genesis file. */
export function loadChainSpec(path: string | URL = DEVNET_GENESIS_PATH): ChainSpec {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new GenesisError(`Cannot read genesis file ${String(path)}: ${(err as Error).message}`)
  }
  return parseChainSpec(raw)
}

/** Validate a parsed geth-format genesis object. */
export function parseChainSpec(raw: unknown): ChainSpec {
  if (typeof raw !== 'object' || raw === null) throw new GenesisError('genesis must be a JSON object')
  validateGethGenesis(raw)
  const g = raw as ChainSpec['geth']
  for (const field of ['config', 'gasLimit', 'alloc'] as const) {
    if (!(field in g)) throw new GenesisError(`genesis is missing the field "${field}"`)
  }
  const chainId = g.config.chainId
  if (typeof chainId !== 'number' && typeof chainId !== 'bigint')
    throw new GenesisError('config.chainId must be a number')
  const spec: ChainSpec = {
    geth: { ...g, difficulty: g.difficulty ?? '0x0', nonce: g.nonce ?? '0x0' } as ChainSpec['geth'],
    lattice: g.config.lattice ?? {},
    chainId: BigInt(chainId),
    state: parseGethGenesisState(g as GethGenesis),
  }
  return spec
}

/** A fresh Common for the spec (Common is stateful: one per VM/blockchain user). */
export function createChainCommon(spec: ChainSpec): Common {
  const common = createCommonFromGethGenesis(withoutBpoSchedules(spec.geth), {
    chain: 'lattice',
    customCrypto: { ...nativeCrypto(), kzg: kzg() },
  })
  // every transaction decode re-applies the tx parameters: skip that when they already hold
  return memoiseUpdateParams(common)
}

/**
 * ethereumjs 10.1 replaces a BPO fork's `target`/`max` params when it reads them from `blobSchedule`,
 * which breaks its own blob-gas schedule. Its built-in BPO values are the mainnet ones: keep those and
 * refuse a genesis that asks for others rather than silently running a different schedule.
 */
function withoutBpoSchedules(geth: ChainSpec['geth']): ChainSpec['geth'] {
  const schedule = (
    geth.config as { blobSchedule?: Record<string, { target: number; max: number; baseFeeUpdateFraction: number }> }
  ).blobSchedule
  if (!schedule) return geth
  const kept: typeof schedule = {}
  for (const [fork, entry] of Object.entries(schedule)) {
    if (!/^bpo\d$/.test(fork)) {
      kept[fork] = entry
      continue
    }
    const p = builtinBpoParams(fork)
    if (
      p.target !== entry.target ||
      p.max !== entry.max ||
      p.blobGasPriceUpdateFraction !== entry.baseFeeUpdateFraction
    ) {
      throw new GenesisError(
        `config.blobSchedule.${fork}: only the built-in schedule (target ${p.target}, max ${p.max}, baseFeeUpdateFraction ${p.blobGasPriceUpdateFraction}) is supported`,
      )
    }
  }
  return { ...geth, config: { ...geth.config, blobSchedule: kept } as ChainSpec['geth']['config'] }
}

function builtinBpoParams(fork: string): Record<string, number | undefined> {
  try {
    const c = new EjsCommon({ chain: Mainnet, hardfork: fork })
    const get = (name: string) => {
      try {
        return Number(c.param(name))
      } catch {
        return undefined
      }
    }
    return { target: get('target'), max: get('max'), blobGasPriceUpdateFraction: get('blobGasPriceUpdateFraction') }
  } catch {
    throw new GenesisError(`config.blobSchedule.${fork}: unknown fork "${fork}"`)
  }
}
