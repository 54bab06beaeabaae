// The genesis of a local multi-validator network (`lattice network up`): the devnet's genesis moved back to the
// Shanghai fork set, because the consensus client that drives it (Lodestar 1.5.1) speaks the Engine API only up
// to V2 (Paris/Shanghai payloads). Every execution node of the network is initialised from this one file.
import { readFileSync } from 'node:fs'
import { applyPredeploys, compileContracts, evmVersionOf } from '../../chain/contracts.ts'
import { DEVNET_GENESIS_PATH } from '../../chain/genesis.ts'

/** Fork fields of `config` that come after Shanghai (timestamps and their blob schedule). */
const LATER_FORK_FIELDS = ['cancunTime', 'pragueTime', 'osakaTime', 'bpo1Time', 'bpo2Time', 'blobSchedule']

/** Prague-only config: the deposit contract of EIP-6110's request parsing. */
const LATER_CONFIG_FIELDS = ['depositContractAddress']

/** Header fields that exist only from Cancun on (EIP-4844). */
const LATER_HEADER_FIELDS = ['excessBlobGas', 'blobGasUsed', 'parentBeaconBlockRoot', 'requestsHash']

/**
 * System contracts of later forks that the devnet genesis predeploys (EIP-4788 beacon roots, EIP-2935 block
 * hashes, EIP-7002 withdrawals, EIP-7251 consolidations): nothing calls them on Shanghai, so they are left out.
 */
const LATER_SYSTEM_CONTRACTS = [
  '0x000f3df6d732807ef1319fb7b8bb8522d0beac02',
  '0x0000f90827f1c53a10cb7a02335b175320002935',
  '0x00000961ef480eb55e80d19ad83579a64c007002',
  '0x0000bbddc7ce488642fb579f8b00f3a590007251',
]

/** Options of {@link networkGenesis}. */
export interface NetworkGenesisOpts {
  /** Addresses of the validators' inference-root keys (`config.lattice.validators`). */
  validators: string[]
  /** Genesis timestamp in seconds: the consensus client's genesis time, so block 1 comes after it. */
  timestamp: number
  /** Chain id. Default: the devnet's (41232), so dev tools and keys work unchanged. */
  chainId?: number
  /** The genesis to start from. Default: genesis/devnet.json. */
  base?: Record<string, unknown>
}

/**
 * A geth-format genesis at Shanghai for a network: forks up to Shanghai only, the validator set, the genesis
 * time, and the system contracts compiled for Shanghai's EVM (no TSTORE, MCOPY or BLOBHASH).
 */
export function networkGenesis(opts: NetworkGenesisOpts): Record<string, unknown> {
  const base = opts.base ?? (JSON.parse(readFileSync(DEVNET_GENESIS_PATH, 'utf8')) as Record<string, unknown>)
  const config = { ...(base.config as Record<string, unknown>) }
  for (const f of [...LATER_FORK_FIELDS, ...LATER_CONFIG_FIELDS]) delete config[f]
  config.shanghaiTime = 0
  if (opts.chainId !== undefined) config.chainId = opts.chainId
  const lattice = { ...((config.lattice as Record<string, unknown> | undefined) ?? {}) }
  lattice.validators = opts.validators
  // more than one validator: state inference must run the portable consensus runtime (docs/determinism.md)
  lattice.inference = { profile: 'consensus-v2' }
  config.lattice = lattice
  const genesis: Record<string, unknown> = { ...base, config, timestamp: `0x${opts.timestamp.toString(16)}` }
  for (const f of LATER_HEADER_FIELDS) delete genesis[f]
  const alloc = { ...((base.alloc as Record<string, unknown> | undefined) ?? {}) }
  for (const key of Object.keys(alloc)) if (LATER_SYSTEM_CONTRACTS.includes(key.toLowerCase())) delete alloc[key]
  genesis.alloc = alloc
  return applyPredeploys(genesis, compileContracts({ evmVersion: evmVersionOf(genesis) }))
}
