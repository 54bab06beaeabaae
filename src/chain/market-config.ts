// `config.lattice.market`: a network's InferenceMarket settings. They go into the predeploy's storage at genesis
// (no constructor runs there), so they are fixed for the life of the chain.
import { GenesisError } from './errors.ts'

/** InferenceMarket's settings as a genesis gives them; an absent field takes the contract's default. */
export interface MarketConfig {
  /** Blocks a claim stays open to challenges (contract default 5). */
  challengeWindow?: bigint
  /** Wei a challenge must send (contract default 0.1 ether). */
  challengeBond?: bigint
  /** Least wei an executor bonds (contract default 1 ether). */
  minStake?: bigint
}

const FIELDS = ['challengeWindow', 'challengeBond', 'minStake'] as const
const MAX = { challengeWindow: (1n << 64n) - 1n, challengeBond: (1n << 256n) - 1n, minStake: (1n << 256n) - 1n }

/** A positive integer from a JSON number (safe integers only) or a decimal or 0x-hex string. */
function positive(value: unknown, field: (typeof FIELDS)[number]): bigint {
  let n: bigint | undefined
  if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value)
  else if (typeof value === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) n = BigInt(value)
  if (n === undefined) {
    throw new GenesisError(
      `config.lattice.market.${field} must be an integer (a JSON number, or a decimal or 0x-hex string for wei); got ${JSON.stringify(value)}`,
    )
  }
  // the contract reads 0 as "default": a 0 written here would silently mean something else
  if (n <= 0n || n > MAX[field]) {
    throw new GenesisError(
      `config.lattice.market.${field} must be between 1 and ${MAX[field]}; got ${n}. Leave it out for the default.`,
    )
  }
  return n
}

/** Check and read `config.lattice.market` (undefined: all defaults). Throws GenesisError naming the bad field. */
export function parseMarketConfig(market: unknown): MarketConfig {
  if (market === undefined) return {}
  if (typeof market !== 'object' || market === null || Array.isArray(market)) {
    throw new GenesisError('config.lattice.market must be an object')
  }
  const m = market as Record<string, unknown>
  for (const k of Object.keys(m)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      throw new GenesisError(`unknown field "config.lattice.market.${k}" (known: ${FIELDS.join(', ')})`)
    }
  }
  const out: MarketConfig = {}
  for (const f of FIELDS) if (m[f] !== undefined) out[f] = positive(m[f], f)
  return out
}

/** `config.lattice.market` of a geth-format genesis object, checked. */
export function marketConfigOf(genesis: Record<string, unknown>): MarketConfig {
  const config = genesis.config as { lattice?: { market?: unknown } } | undefined
  return parseMarketConfig(config?.lattice?.market)
}
