import { CONSENSUS_PROFILES, LEGACY_PROFILE_IDS } from '../inference/profile.ts'
import { GenesisError } from './errors.ts'
import { parseMarketConfig } from './market-config.ts'

/** Block-numbered forks in activation order (geth's names). */
export const BLOCK_FORKS = [
  'homesteadBlock',
  'daoForkBlock',
  'eip150Block',
  'eip155Block',
  'eip158Block',
  'byzantiumBlock',
  'constantinopleBlock',
  'petersburgBlock',
  'istanbulBlock',
  'muirGlacierBlock',
  'berlinBlock',
  'londonBlock',
  'arrowGlacierBlock',
  'grayGlacierBlock',
  'mergeNetsplitBlock',
] as const

/** Timestamp forks in activation order, up to the newest ethereumjs 10.1 knows. */
const TIME_FORKS = ['shanghaiTime', 'cancunTime', 'pragueTime', 'osakaTime', 'bpo1Time', 'bpo2Time'] as const

/** Forks that can be skipped without breaking the order (geth's `optional`). */
const OPTIONAL = new Set([
  'daoForkBlock',
  'muirGlacierBlock',
  'arrowGlacierBlock',
  'grayGlacierBlock',
  'mergeNetsplitBlock',
])

const OTHER_CONFIG = new Set([
  'chainId',
  'daoForkSupport',
  'eip150Hash',
  'terminalTotalDifficulty',
  'terminalTotalDifficultyPassed',
  'depositContractAddress',
  'enableVerkleAtGenesis',
  'ethash',
  'clique',
  'blobSchedule',
  'lattice',
])

const TOP_LEVEL = new Set([
  'config',
  'nonce',
  'timestamp',
  'extraData',
  'gasLimit',
  'difficulty',
  'mixHash',
  'coinbase',
  'alloc',
  'number',
  'gasUsed',
  'parentHash',
  'baseFeePerGas',
  'excessBlobGas',
  'blobGasUsed',
])

const ALLOC_FIELDS = new Set(['balance', 'code', 'storage', 'nonce', 'secretKey'])
const LATTICE_FIELDS = new Set(['devMnemonic', 'devAccounts', 'inference', 'validators', 'market'])
const BLOB_FORKS = ['cancun', 'prague', 'osaka', 'bpo1', 'bpo2'] as const
const BLOB_FIELDS = new Set(['target', 'max', 'baseFeeUpdateFraction'])

const HEX = /^0x[0-9a-fA-F]*$/

/**
 * Strict checks of a geth-format genesis: every field is one geth (or Lattice, under
 * `config.lattice`) defines, values have the right type, and forks are ordered and consistent.
 * Throws GenesisError naming the first offending field.
 */
export function validateGethGenesis(raw: unknown): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GenesisError('genesis must be a JSON object')
  }
  const g = raw as Record<string, unknown>
  for (const k of Object.keys(g)) {
    if (!TOP_LEVEL.has(k)) throw new GenesisError(`unknown genesis field "${k}". Remove it or check its spelling.`)
  }
  for (const k of [
    'nonce',
    'timestamp',
    'gasLimit',
    'difficulty',
    'number',
    'gasUsed',
    'baseFeePerGas',
    'excessBlobGas',
    'blobGasUsed',
  ]) {
    if (g[k] !== undefined && g[k] !== null) quantityField(g[k], k)
  }
  for (const [k, size] of [
    ['extraData', undefined],
    ['mixHash', 32],
    ['coinbase', 20],
    ['parentHash', 32],
  ] as const) {
    if (g[k] !== undefined && g[k] !== null) hexField(g[k], k, size)
  }
  if (g.extraData !== undefined && ((g.extraData as string).length - 2) / 2 > 32) {
    throw new GenesisError('genesis field "extraData" is longer than 32 bytes')
  }
  if (typeof g.config !== 'object' || g.config === null) throw new GenesisError('genesis is missing the field "config"')
  validateConfig(g.config as Record<string, unknown>, g)
  if (typeof g.alloc !== 'object' || g.alloc === null || Array.isArray(g.alloc)) {
    throw new GenesisError('genesis field "alloc" must be an object of address -> account')
  }
  for (const [addr, acct] of Object.entries(g.alloc as Record<string, unknown>)) {
    const name = `alloc.${addr}`
    if (!/^(0x)?[0-9a-fA-F]{40}$/.test(addr)) throw new GenesisError(`${name}: the key is not a 20-byte hex address`)
    if (typeof acct !== 'object' || acct === null) throw new GenesisError(`${name} must be an object`)
    const a = acct as Record<string, unknown>
    for (const k of Object.keys(a)) {
      if (!ALLOC_FIELDS.has(k))
        throw new GenesisError(`unknown field "${name}.${k}". Allowed: balance, code, storage, nonce.`)
    }
    if (a.balance !== undefined) quantityField(a.balance, `${name}.balance`, true)
    if (a.nonce !== undefined) quantityField(a.nonce, `${name}.nonce`, true)
    if (a.code !== undefined) hexField(a.code, `${name}.code`)
    if (a.storage !== undefined) {
      if (typeof a.storage !== 'object' || a.storage === null)
        throw new GenesisError(`${name}.storage must be an object`)
      for (const [k, v] of Object.entries(a.storage as Record<string, unknown>)) {
        if (!HEX.test(k) || k.length > 66)
          throw new GenesisError(`${name}.storage key "${k}" is not a 32-byte hex slot`)
        if (typeof v !== 'string' || !HEX.test(v) || v.length > 66) {
          throw new GenesisError(`${name}.storage.${k} is not a hex value of at most 32 bytes`)
        }
      }
    }
  }
}

function validateConfig(c: Record<string, unknown>, g: Record<string, unknown>): void {
  const known = new Set<string>([...BLOCK_FORKS, ...TIME_FORKS, ...OTHER_CONFIG])
  for (const k of Object.keys(c)) {
    if (!known.has(k)) {
      throw new GenesisError(
        `unknown field "config.${k}". Lattice (ethereumjs 10.1) knows the forks up to bpo2; remove it or check its spelling.`,
      )
    }
  }
  if (typeof c.chainId !== 'number' || !Number.isInteger(c.chainId) || c.chainId <= 0) {
    throw new GenesisError('config.chainId must be a positive integer')
  }
  for (const k of [...BLOCK_FORKS, ...TIME_FORKS]) {
    const v = c[k]
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw new GenesisError(`config.${k} must be a non-negative integer, got ${JSON.stringify(v)}`)
    }
  }
  checkOrder(c, BLOCK_FORKS)
  checkOrder(c, TIME_FORKS)
  const set = (k: string) => c[k] !== undefined && c[k] !== null
  if (set('ethash') && set('clique')) throw new GenesisError('config has both "ethash" and "clique"; keep one engine')
  const merged = set('terminalTotalDifficulty') || set('mergeNetsplitBlock')
  if (set('shanghaiTime') && !merged) {
    throw new GenesisError('config.shanghaiTime is set but the chain never merges: set config.terminalTotalDifficulty')
  }
  if (set('shanghaiTime') && !set('londonBlock')) {
    throw new GenesisError('config.shanghaiTime is set but config.londonBlock is not')
  }
  if (set('terminalTotalDifficulty')) {
    const t = c.terminalTotalDifficulty
    if (typeof t !== 'number' && !(typeof t === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(t))) {
      throw new GenesisError('config.terminalTotalDifficulty must be a number')
    }
  }
  if (set('depositContractAddress')) hexField(c.depositContractAddress, 'config.depositContractAddress', 20)
  if (set('londonBlock') && Number(c.londonBlock) === 0 && g.baseFeePerGas === undefined) {
    // geth fills in the initial base fee; fine
  }
  if (set('blobSchedule')) {
    if (typeof c.blobSchedule !== 'object' || Array.isArray(c.blobSchedule)) {
      throw new GenesisError('config.blobSchedule must be an object of fork -> {target, max, baseFeeUpdateFraction}')
    }
    const s = c.blobSchedule as Record<string, unknown>
    for (const [fork, entry] of Object.entries(s)) {
      if (!(BLOB_FORKS as readonly string[]).includes(fork)) {
        throw new GenesisError(`unknown fork "config.blobSchedule.${fork}"; known: ${BLOB_FORKS.join(', ')}`)
      }
      if (typeof entry !== 'object' || entry === null)
        throw new GenesisError(`config.blobSchedule.${fork} must be an object`)
      const e = entry as Record<string, unknown>
      for (const k of Object.keys(e)) {
        if (!BLOB_FIELDS.has(k)) throw new GenesisError(`unknown field "config.blobSchedule.${fork}.${k}"`)
      }
      for (const k of BLOB_FIELDS) {
        if (typeof e[k] !== 'number' || !Number.isInteger(e[k]) || (e[k] as number) < 0) {
          throw new GenesisError(`config.blobSchedule.${fork}.${k} must be a non-negative integer`)
        }
      }
      if ((e.target as number) > (e.max as number)) {
        throw new GenesisError(`config.blobSchedule.${fork}: target ${e.target} is above max ${e.max}`)
      }
    }
  }
  for (const fork of BLOB_FORKS) {
    if (set(`${fork}Time`) && !(set('blobSchedule') && (c.blobSchedule as Record<string, unknown>)[fork])) {
      throw new GenesisError(`config.${fork}Time is set but config.blobSchedule.${fork} is missing`)
    }
  }
  if (set('lattice')) {
    const l = c.lattice as Record<string, unknown>
    if (typeof l !== 'object' || Array.isArray(l)) throw new GenesisError('config.lattice must be an object')
    for (const k of Object.keys(l)) {
      if (!LATTICE_FIELDS.has(k)) throw new GenesisError(`unknown field "config.lattice.${k}"`)
    }
    if (l.devMnemonic !== undefined && typeof l.devMnemonic !== 'string') {
      throw new GenesisError('config.lattice.devMnemonic must be a string')
    }
    if (l.devAccounts !== undefined && (!Number.isInteger(l.devAccounts) || (l.devAccounts as number) < 0)) {
      throw new GenesisError('config.lattice.devAccounts must be a non-negative integer')
    }
    if (l.validators !== undefined) {
      if (!Array.isArray(l.validators))
        throw new GenesisError('config.lattice.validators must be an array of addresses')
      for (const [i, v] of l.validators.entries()) hexField(v, `config.lattice.validators[${i}]`, 20)
    }
    // InferenceMarket's settings (src/chain/market-config.ts)
    parseMarketConfig(l.market)
    if (l.inference !== undefined) {
      const inf = l.inference as Record<string, unknown>
      if (typeof inf !== 'object' || inf === null) throw new GenesisError('config.lattice.inference must be an object')
      for (const k of Object.keys(inf)) {
        if (k !== 'profile' && k !== 'provider') throw new GenesisError(`unknown field "config.lattice.inference.${k}"`)
      }
      // a consensus profile by id (resolved by src/inference/profile.ts), the legacy "consensus" (= consensus-v1),
      // or "accelerated": native CPU or an accelerator, for a single-validator chain
      const known = [...Object.keys(CONSENSUS_PROFILES), ...Object.keys(LEGACY_PROFILE_IDS), 'accelerated']
      if (typeof inf.profile !== 'string' || !known.includes(inf.profile)) {
        throw new GenesisError(
          `config.lattice.inference.profile must be one of ${known.map((k) => `"${k}"`).join(', ')}; got ${JSON.stringify(inf.profile)}`,
        )
      }
      if (inf.provider !== undefined && inf.profile !== 'accelerated') {
        throw new GenesisError('config.lattice.inference.provider is only for profile "accelerated"')
      }
      if (inf.profile === 'accelerated' && Array.isArray(l.validators) && l.validators.length > 1) {
        throw new GenesisError(
          'config.lattice.inference.profile "accelerated" needs a single validator; use "consensus-v2" with several',
        )
      }
    }
  }
}

/** geth's CheckConfigForkOrder: a fork may not be enabled while an earlier one is not, or before it. */
function checkOrder(c: Record<string, unknown>, forks: readonly string[]): void {
  let last: { name: string; at?: number } | undefined
  for (const f of forks) {
    const v = c[f]
    const at = v === undefined || v === null ? undefined : (v as number)
    if (last) {
      if (last.at === undefined && at !== undefined) {
        throw new GenesisError(`config.${f} is set but the earlier fork config.${last.name} is not: set it too`)
      }
      if (last.at !== undefined && at !== undefined && at < last.at) {
        throw new GenesisError(`config.${f} (${at}) is before the earlier fork config.${last.name} (${last.at})`)
      }
    }
    if (!OPTIONAL.has(f) || at !== undefined) last = { name: f, at }
  }
}

function quantityField(v: unknown, name: string, allowDecimal = false): void {
  const ok =
    (typeof v === 'string' && (HEX.test(v) ? v.length > 2 : allowDecimal && /^\d+$/.test(v))) ||
    (typeof v === 'number' && Number.isInteger(v) && v >= 0)
  if (!ok) throw new GenesisError(`genesis field "${name}" must be a hex quantity like "0x1", got ${JSON.stringify(v)}`)
}

function hexField(v: unknown, name: string, size?: number): void {
  if (typeof v !== 'string' || !HEX.test(v) || v.length % 2 !== 0) {
    throw new GenesisError(`genesis field "${name}" must be 0x-prefixed hex, got ${JSON.stringify(v)}`)
  }
  if (size !== undefined && (v.length - 2) / 2 !== size) {
    throw new GenesisError(`genesis field "${name}" must be ${size} bytes, got ${(v.length - 2) / 2}`)
  }
}
