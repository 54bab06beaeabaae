import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, normalize, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bytesToHex, concatBytes, hexToBytes, setLengthLeft, toChecksumAddress } from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import {
  INFERENCE_MARKET_ADDRESS,
  INFERENCE_VERIFIER_ADDRESS,
  IPFS_INCENTIVES_ADDRESS,
  MODEL_REGISTRY_ADDRESS,
} from '../precompiles/addresses.ts'
import { ContractCompileError } from './errors.ts'
import { marketConfigOf } from './market-config.ts'

/**
 * The exact compiler that builds Lattice's system contracts. Their runtime bytecode is predeployed in genesis,
 * so it is consensus data: package.json pins the `solc` npm package to the same release.
 */
export const SOLC_VERSION = '0.8.30+commit.73712a01'

/**
 * The EVM versions a Lattice genesis can ask its system contracts to be built for: the devnet runs Prague; a
 * network driven by a consensus client that speaks the Engine API only up to V2 (Lodestar 1.5.1) runs
 * Shanghai, where Cancun's opcodes (TSTORE, MCOPY, BLOBHASH) do not exist.
 */
export type EvmVersion = 'shanghai' | 'cancun' | 'prague'

/**
 * solc settings for every system contract. The metadata hash is left out of the bytecode so that comments
 * and source paths do not change it; the EVM version matches the devnet's fork (prague). A genesis at an
 * earlier fork compiles with its own version (`CompileContractsOpts.evmVersion`, `evmVersionOf`).
 */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'prague',
  metadata: { appendCBOR: false, bytecodeHash: 'none' },
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'] },
  },
} as const

/** The repository root; source unit names are paths relative to it (`contracts/ModelRegistry.sol`). */
export const CONTRACTS_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The directory, under the root, whose `.sol` files are always compiled. */
export const CONTRACTS_DIR = 'contracts'

/** One state variable or struct member in solc's storage layout output. */
export interface StorageEntry {
  astId: number
  contract: string
  label: string
  /** Byte offset inside the slot, counted from the lowest-order byte. */
  offset: number
  /** Slot number as a decimal string (relative to the struct's base slot for members). */
  slot: string
  type: string
}

/** One type in solc's storage layout output. */
export interface StorageType {
  encoding: 'inplace' | 'mapping' | 'dynamic_array' | 'bytes'
  label: string
  numberOfBytes: string
  key?: string
  value?: string
  base?: string
  members?: StorageEntry[]
}

/** solc's `storageLayout` output for one contract. */
export interface StorageLayout {
  storage: StorageEntry[]
  types: Record<string, StorageType> | null
}

/** What the build keeps of one compiled contract (written to build/contracts/<Name>.json). */
export interface ContractArtifact {
  contractName: string
  /** Source unit name, e.g. `contracts/ModelRegistry.sol`. */
  sourceName: string
  abi: unknown[]
  /** Creation bytecode, `0x`-prefixed (`0x` for interfaces and abstract contracts). */
  bytecode: `0x${string}`
  /** Runtime bytecode, `0x`-prefixed: what a predeploy's genesis `code` holds. */
  deployedBytecode: `0x${string}`
  storageLayout: StorageLayout
  /** The solc release and the settings it ran with (`outputSelection` narrows with `outputsFor`). */
  compiler: { version: string; settings: SolcSettings }
}

/** solc standard-JSON settings as Lattice uses them. */
export type SolcSettings = Omit<typeof SOLC_SETTINGS, 'outputSelection' | 'evmVersion'> & {
  evmVersion: EvmVersion
  outputSelection: Record<string, Record<string, readonly string[]>>
}

/**
 * The EVM version a geth-format genesis needs its contracts built for: the latest of Shanghai, Cancun and
 * Prague its `config` activates at time 0. A fork scheduled later is not enough: the predeploys must run from
 * genesis on. A genesis without `shanghaiTime` 0 is refused: Lattice's contracts use PUSH0.
 */
export function evmVersionOf(genesis: Record<string, unknown>): EvmVersion {
  const config = (genesis.config ?? {}) as Record<string, unknown>
  const atGenesis = (field: string) => config[field] !== undefined && Number(config[field]) === 0
  if (atGenesis('pragueTime')) return 'prague'
  if (atGenesis('cancunTime')) return 'cancun'
  if (atGenesis('shanghaiTime')) return 'shanghai'
  throw new ContractCompileError(
    'The genesis does not activate Shanghai at time 0 (config.shanghaiTime), the earliest fork the system contracts run on. Set "shanghaiTime": 0.',
  )
}

/** Options of `compileContracts`. */
export interface CompileContractsOpts {
  /** Root that source unit names and imports are resolved against. Default: the repository root. */
  root?: string
  /** Directory under `root` whose `.sol` files (recursively) are compiled. Default: `contracts`. */
  dir?: string
  /** More `.sol` files to compile, as paths relative to `root` (test fixtures). Default: none. */
  extraSources?: string[]
  /**
   * Only contracts in these files (paths relative to `root`) get artifacts; the rest are compiled only as
   * imports. Outputs do not change bytecode; this saves the code generation a test fixture does not need.
   * Default: every file.
   */
  outputsFor?: string[]
  /** Called with each compiler warning's formatted text. Default: warnings are dropped. */
  onWarning?: (message: string) => void
  /** The EVM the bytecode must run on (`evmVersionOf(genesis)`). Default: `SOLC_SETTINGS.evmVersion` (prague). */
  evmVersion?: EvmVersion
}

/** A system contract predeployed in genesis. */
export interface Predeploy {
  /** Lower-case address. */
  address: string
  /** Contract name in the compiled artifacts. */
  contract: string
  /** Genesis balance, 0x-hex wei (default 0x0): IPFSIncentives' reward pool. */
  balance?: string
  /**
   * Storage the predeploy starts with, derived from the genesis it goes into (no constructor runs there).
   * Default: none.
   */
  storage?: (genesis: Record<string, unknown>, artifact: ContractArtifact) => Record<string, string>
}

/** The storage key of `mapping(address => …)[key]` declared at `slot` (Solidity's layout). */
function mappingSlot(key: string, slot: bigint): string {
  const k = setLengthLeft(hexToBytes(key as `0x${string}`), 32)
  const p = setLengthLeft(hexToBytes(`0x${slot.toString(16).padStart(2, '0')}`), 32)
  return bytesToHex(keccak256(concatBytes(k, p)))
}

/**
 * IPFSIncentives' verifiers: `isVerifier[v] = true` for every `config.lattice.validators` entry. The slot comes
 * from the compiled storage layout, so moving the variable cannot leave genesis pointing at the wrong one.
 */
export function verifierStorage(genesis: Record<string, unknown>, artifact: ContractArtifact): Record<string, string> {
  const entry = artifact.storageLayout.storage.find((e) => e.label === 'isVerifier')
  if (!entry)
    throw new ContractCompileError(`${artifact.contractName} has no isVerifier mapping in its storage layout.`)
  const config = genesis.config as { lattice?: { validators?: string[] } } | undefined
  const out: Record<string, string> = {}
  for (const v of config?.lattice?.validators ?? []) out[mappingSlot(v.toLowerCase(), BigInt(entry.slot))] = '0x01'
  return out
}

/**
 * InferenceMarket's settings from `config.lattice.market` (challenge window, bond, least stake). Only the fields
 * the genesis sets are written; the contract reads an unwritten (zero) slot as its default. Slots and byte
 * offsets come from the compiled storage layout.
 */
export function marketStorage(genesis: Record<string, unknown>, artifact: ContractArtifact): Record<string, string> {
  const config = marketConfigOf(genesis)
  const words = new Map<bigint, bigint>()
  for (const [field, value] of Object.entries(config) as [string, bigint | undefined][]) {
    if (value === undefined) continue
    const label = `_${field}`
    const entry = artifact.storageLayout.storage.find((e) => e.label === label)
    if (!entry) throw new ContractCompileError(`${artifact.contractName} has no ${label} in its storage layout.`)
    const slot = BigInt(entry.slot)
    words.set(slot, (words.get(slot) ?? 0n) | (value << BigInt(entry.offset * 8)))
  }
  const out: Record<string, string> = {}
  for (const [slot, word] of words) {
    out[bytesToHex(setLengthLeft(hexToBytes(`0x${slot.toString(16).padStart(2, '0')}`), 32))] = `0x${word.toString(16)}`
  }
  return out
}

/** System contracts and where genesis puts them. */
export const PREDEPLOYS: readonly Predeploy[] = [
  { address: MODEL_REGISTRY_ADDRESS, contract: 'ModelRegistry' },
  { address: INFERENCE_VERIFIER_ADDRESS, contract: 'InferenceVerifier' },
  // 1000 ether reward pool; the genesis validators verify models' sizes and commitments
  {
    address: IPFS_INCENTIVES_ADDRESS,
    contract: 'IPFSIncentives',
    balance: '0x3635c9adc5dea00000',
    storage: verifierStorage,
  },
  // settings (window, bond, least stake) from config.lattice.market
  { address: INFERENCE_MARKET_ADDRESS, contract: 'InferenceMarket', storage: marketStorage },
]

interface Solc {
  version(): string
  compile(input: string, callbacks?: { import(path: string): { contents: string } | { error: string } }): string
}

interface SolcMessage {
  severity: 'error' | 'warning' | 'info'
  formattedMessage: string
}

let solc: Solc | undefined
const cache = new Map<string, Record<string, ContractArtifact>>()

/** Load solc-js (about a second of wasm start-up) and check it is the pinned release. */
function loadSolc(): Solc {
  if (!solc) {
    const s = createRequire(import.meta.url)('solc') as Solc
    const version = s.version()
    if (!version.startsWith(`${SOLC_VERSION}.`) && version !== SOLC_VERSION) {
      throw new ContractCompileError(
        `solc ${version} is installed but the system contracts are built with ${SOLC_VERSION}. Run \`npm ci\` to install the pinned solc.`,
      )
    }
    solc = s
  }
  return solc
}

/** Forward-slash path of `file` relative to `root` (solc source unit names never use backslashes). */
function unitName(root: string, file: string): string {
  return relative(root, file).split(sep).join('/')
}

function listSol(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.sol'))
    .map((f) => join(dir, f))
    .sort()
}

/**
 * Compile the Solidity sources in `contracts/` (plus `extraSources`) with the pinned solc and settings, and
 * return the artifacts by contract name. Imports resolve against the root, never outside it. Results are
 * memoised per input within the process.
 */
export function compileContracts(opts: CompileContractsOpts = {}): Record<string, ContractArtifact> {
  const root = opts.root ?? CONTRACTS_ROOT
  const dir = join(root, opts.dir ?? CONTRACTS_DIR)
  if (!existsSync(dir)) {
    throw new ContractCompileError(`No contracts directory at ${dir}. Run from the Lattice repository.`)
  }
  const files = [...listSol(dir), ...(opts.extraSources ?? []).map((f) => (isAbsolute(f) ? f : join(root, f)))]
  const sources: Record<string, { content: string }> = {}
  for (const f of files) {
    if (!existsSync(f)) throw new ContractCompileError(`No Solidity source at ${f}.`)
    sources[unitName(root, f)] = { content: readFileSync(f, 'utf8') }
  }
  const base: SolcSettings = { ...SOLC_SETTINGS, evmVersion: opts.evmVersion ?? SOLC_SETTINGS.evmVersion }
  const settings: SolcSettings = opts.outputsFor
    ? {
        ...base,
        outputSelection: Object.fromEntries(
          opts.outputsFor.map((f) => [
            unitName(root, isAbsolute(f) ? f : join(root, f)),
            SOLC_SETTINGS.outputSelection['*'],
          ]),
        ),
      }
    : base
  const input = JSON.stringify({ language: 'Solidity', sources, settings })
  const hit = cache.get(input)
  if (hit) return hit

  const compiler = loadSolc()
  const findImports = (path: string): { contents: string } | { error: string } => {
    const file = normalize(join(root, path))
    if (relative(root, file).startsWith('..')) return { error: `import "${path}" is outside ${root}` }
    if (!existsSync(file)) return { error: `no file ${file} for import "${path}"` }
    return { contents: readFileSync(file, 'utf8') }
  }
  const out = JSON.parse(compiler.compile(input, { import: findImports })) as {
    errors?: SolcMessage[]
    contracts?: Record<string, Record<string, any>>
  }
  const messages = out.errors ?? []
  const errors = messages.filter((m) => m.severity === 'error')
  if (errors.length) {
    throw new ContractCompileError(
      `solc found ${errors.length} error(s) in the contracts; fix the sources and build again.`,
      errors.map((e) => e.formattedMessage).join('\n'),
    )
  }
  for (const m of messages) if (m.severity === 'warning') opts.onWarning?.(m.formattedMessage)

  const artifacts: Record<string, ContractArtifact> = {}
  for (const [sourceName, contracts] of Object.entries(out.contracts ?? {})) {
    for (const [contractName, c] of Object.entries(contracts)) {
      const prev = artifacts[contractName]
      if (prev) {
        throw new ContractCompileError(
          `Two contracts are named ${contractName} (${prev.sourceName} and ${sourceName}); artifacts are keyed by name, rename one.`,
        )
      }
      artifacts[contractName] = {
        contractName,
        sourceName,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        storageLayout: c.storageLayout,
        compiler: { version: compiler.version(), settings },
      }
    }
  }
  cache.set(input, artifacts)
  return artifacts
}

/** The genesis `alloc` entry of a predeploy: its runtime code, nonce 1 (EIP-161), storage only when given. */
export function predeployAccount(
  artifact: ContractArtifact,
  balance = '0x0',
  storage: Record<string, string> = {},
): { balance: string; nonce: string; code: string; storage?: Record<string, string> } {
  const account = { balance, nonce: '0x1', code: artifact.deployedBytecode }
  return Object.keys(storage).length ? { ...account, storage } : account
}

/**
 * A copy of a geth-format genesis object with every predeploy's account set from `artifacts`. An existing
 * entry (any address case) is replaced where it stands; a new one is appended under the checksummed address.
 */
export function applyPredeploys(
  genesis: Record<string, unknown>,
  artifacts: Record<string, ContractArtifact>,
): Record<string, unknown> {
  const alloc = { ...((genesis.alloc as Record<string, unknown> | undefined) ?? {}) }
  for (const p of PREDEPLOYS) {
    const artifact = artifacts[p.contract]
    if (!artifact) throw new ContractCompileError(`The predeploy ${p.contract} is not among the compiled contracts.`)
    const key =
      Object.keys(alloc).find((k) => k.replace(/^0x/, '').toLowerCase() === p.address.slice(2).toLowerCase()) ??
      toChecksumAddress(p.address)
    alloc[key] = predeployAccount(artifact, p.balance, p.storage?.(genesis, artifact))
  }
  return { ...genesis, alloc }
}
