import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { AbiCoder, keccak256 } from 'ethers'
import { afterAll, describe, expect, it } from 'vitest'
import type { ContractArtifact, StorageEntry } from '../../src/chain/contracts.ts'
import {
  applyPredeploys,
  CONTRACTS_ROOT,
  compileContracts,
  PREDEPLOYS,
  SOLC_SETTINGS,
  SOLC_VERSION,
  verifierStorage,
} from '../../src/chain/contracts.ts'
import { ContractCompileError } from '../../src/chain/errors.ts'
import { contractsBuildCommand } from '../../src/cli/commands/contracts.ts'
import { IPFS_INCENTIVES_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../../src/precompiles/addresses.ts'
import { AccessPolicy, ModelStatus, REGISTRY_LAYOUT } from '../../src/precompiles/registry-layout.ts'

const GENESIS = join(CONTRACTS_ROOT, 'genesis', 'devnet.json')
const temps: string[] = []
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lattice-contracts-'))
  temps.push(d)
  return d
}

function sink(): { stream: Writable; text: () => string } {
  let s = ''
  const stream = new Writable({
    write(chunk, _enc, cb) {
      s += String(chunk)
      cb()
    },
  })
  return { stream, text: () => s }
}

function allocEntry(genesis: any, address: string): any {
  return Object.entries(genesis.alloc).find(([k]) => k.toLowerCase() === address.toLowerCase())?.[1]
}

describe('system contracts build', () => {
  const artifacts = compileContracts()
  const registry = artifacts.ModelRegistry

  it('compiles contracts/ with the pinned solc and settings', () => {
    expect(Object.keys(artifacts)).toEqual(expect.arrayContaining(['ILatticeInference', 'Lattice', 'ModelRegistry']))
    expect(registry.sourceName).toBe('contracts/ModelRegistry.sol')
    expect(registry.compiler.version.startsWith(SOLC_VERSION)).toBe(true)
    expect(registry.compiler.settings).toEqual({
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'prague',
      metadata: { appendCBOR: false, bytecodeHash: 'none' },
      outputSelection: SOLC_SETTINGS.outputSelection,
    })
    // package.json pins the same release exactly (no caret): the bytecode is consensus data
    const pkg = JSON.parse(readFileSync(join(CONTRACTS_ROOT, 'package.json'), 'utf8'))
    expect(pkg.dependencies.solc).toBe(SOLC_VERSION.split('+')[0])
    expect(registry.deployedBytecode).toMatch(/^0x([0-9a-f]{2})+$/)
    expect(registry.bytecode.length).toBeGreaterThan(registry.deployedBytecode.length)
    expect(registry.abi.some((f: any) => f.type === 'function' && f.name === 'register')).toBe(true)
    expect(artifacts.ILatticeInference.bytecode).toBe('0x')
  })

  it('genesis holds the ModelRegistry runtime bytecode of a fresh compile at 0xA110…01', () => {
    expect(PREDEPLOYS[0]).toEqual({ address: MODEL_REGISTRY_ADDRESS, contract: 'ModelRegistry' })
    const genesis = JSON.parse(readFileSync(GENESIS, 'utf8'))
    const entry = allocEntry(genesis, '0xA110000000000000000000000000000000000001')
    expect(entry).toEqual({ balance: '0x0', nonce: '0x1', code: registry.deployedBytecode })
  })

  it('genesis/devnet.json is exactly what `contracts build` writes (nothing else differs)', async () => {
    const text = readFileSync(GENESIS, 'utf8')
    expect(`${JSON.stringify(applyPredeploys(JSON.parse(text), artifacts), null, 2)}\n`).toBe(text)
    const out = sink()
    const err = sink()
    const io = { stdout: out.stream, stderr: err.stream, isTTY: false }
    expect(await contractsBuildCommand.run([], { check: true }, io)).toBe(0)
    expect(readFileSync(GENESIS, 'utf8')).toBe(text)
  })

  it('`contracts build` writes artifacts and the predeploy, keeping the genesis key order and the rest', async () => {
    const dir = tempDir()
    const genesisPath = join(dir, 'genesis.json')
    const original = JSON.parse(readFileSync(GENESIS, 'utf8'))
    const stale = { ...original, alloc: { ...original.alloc } }
    // a stale entry under a lower-case key is replaced where it stands, not duplicated
    delete stale.alloc['0xA110000000000000000000000000000000000001']
    const keys = Object.keys(stale.alloc)
    stale.alloc = Object.fromEntries([
      ...keys.slice(0, 2).map((k) => [k, stale.alloc[k]]),
      ['0xa110000000000000000000000000000000000001', { balance: '0x5', code: '0x00' }],
      ...keys.slice(2).map((k) => [k, stale.alloc[k]]),
    ])
    writeFileSync(genesisPath, JSON.stringify(stale, null, 2))
    const io = { stdout: sink().stream, stderr: sink().stream, isTTY: false }
    await expect(contractsBuildCommand.run([], { check: true, genesis: genesisPath }, io)).rejects.toThrow(
      /predeploys differ from a fresh compile/,
    )
    expect(await contractsBuildCommand.run([], { out: join(dir, 'out'), genesis: genesisPath }, io)).toBe(0)

    const written = JSON.parse(readFileSync(genesisPath, 'utf8'))
    expect(Object.keys(written)).toEqual(Object.keys(original))
    expect(Object.keys(written.alloc)[2]).toBe('0xa110000000000000000000000000000000000001')
    expect(Object.keys(written.alloc)).toHaveLength(keys.length + 1)
    expect(written.alloc['0xa110000000000000000000000000000000000001']).toEqual({
      balance: '0x0',
      nonce: '0x1',
      code: registry.deployedBytecode,
    })
    expect({ ...written, alloc: null }).toEqual({ ...original, alloc: null })
    const saved = JSON.parse(readFileSync(join(dir, 'out', 'ModelRegistry.json'), 'utf8')) as ContractArtifact
    expect(saved).toEqual(registry)
  })

  it('comments, source order and unrelated new files do not change the bytecode', () => {
    const root = tempDir()
    cpSync(join(CONTRACTS_ROOT, 'contracts'), join(root, 'contracts'), { recursive: true })
    const file = join(root, 'contracts', 'ModelRegistry.sol')
    const src = readFileSync(file, 'utf8')
    writeFileSync(
      file,
      `// a comment that moves every source position\n${src.replaceAll('/// @notice', '/// @notice (edited)')}`,
    )
    writeFileSync(join(root, 'contracts', 'AAA.sol'), 'pragma solidity ^0.8.24;\ncontract AAA { uint256 x; }\n')
    const other = compileContracts({ root })
    expect(other.ModelRegistry.deployedBytecode).toBe(registry.deployedBytecode)
    expect(other.ModelRegistry.bytecode).toBe(registry.bytecode)
  })

  it('a source that does not compile is a ContractCompileError naming the file', () => {
    const root = tempDir()
    cpSync(join(CONTRACTS_ROOT, 'contracts'), join(root, 'contracts'), { recursive: true })
    writeFileSync(
      join(root, 'contracts', 'Broken.sol'),
      'pragma solidity ^0.8.24;\ncontract Broken { uint256 x = ; }\n',
    )
    let err: unknown
    try {
      compileContracts({ root })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ContractCompileError)
    expect((err as ContractCompileError).details).toContain('contracts/Broken.sol')
  })
})

describe('IPFSIncentives predeploy', () => {
  const artifacts = compileContracts()
  const incentives = artifacts.IPFSIncentives

  it('genesis marks every config.lattice.validators entry as a verifier, in the slot the build reports', () => {
    const genesis = JSON.parse(readFileSync(GENESIS, 'utf8'))
    const entry = allocEntry(genesis, IPFS_INCENTIVES_ADDRESS)
    expect(entry.code).toBe(incentives.deployedBytecode)
    expect(entry.balance).toBe('0x3635c9adc5dea00000')
    const slot = incentives.storageLayout.storage.find((e) => e.label === 'isVerifier')!
    expect(slot.slot).toBe('0')
    const keys = genesis.config.lattice.validators.map((v: string) =>
      keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'uint256'], [v, BigInt(slot.slot)])),
    )
    expect(keys.length).toBeGreaterThan(0)
    expect(entry.storage).toEqual(Object.fromEntries(keys.map((k: string) => [k, '0x01'])))
    // another validator set gives another verifier set; none gives no storage at all
    const other = { ...genesis, config: { ...genesis.config, lattice: { ...genesis.config.lattice, validators: [] } } }
    expect(Object.keys(verifierStorage(other, incentives))).toEqual([])
    const none = allocEntry(applyPredeploys(other, artifacts), IPFS_INCENTIVES_ADDRESS)
    expect(none.storage).toBeUndefined()
  })
})

describe('ModelRegistry storage layout (read by the precompile) matches src/precompiles/registry-layout.ts', () => {
  const registry = compileContracts().ModelRegistry
  const layout = registry.storageLayout
  const types = layout.types ?? {}
  const byLabel = (entries: StorageEntry[], label: string): StorageEntry => {
    const e = entries.find((x) => x.label === label)
    if (!e) throw new Error(`no storage entry ${label}`)
    return e
  }

  it('puts _models in slot 0 and _allowed in slot 1, each a whole slot', () => {
    const models = byLabel(layout.storage, '_models')
    const allowed = byLabel(layout.storage, '_allowed')
    expect([BigInt(models.slot), models.offset]).toEqual([REGISTRY_LAYOUT.modelsSlot, 0])
    expect([BigInt(allowed.slot), allowed.offset]).toEqual([REGISTRY_LAYOUT.allowedSlot, 0])
    expect(types[models.type].key).toBe('t_bytes32')
    expect(types[allowed.type].label).toBe('mapping(bytes32 => mapping(address => bool))')
  })

  it('appends the package owner maps after _lock: _digestOwner in slot 5, _cidOwner in slot 6', () => {
    const digest = byLabel(layout.storage, '_digestOwner')
    const cid = byLabel(layout.storage, '_cidOwner')
    expect([BigInt(digest.slot), digest.offset]).toEqual([REGISTRY_LAYOUT.digestOwnerSlot, 0])
    expect([BigInt(cid.slot), cid.offset]).toEqual([REGISTRY_LAYOUT.cidOwnerSlot, 0])
    expect(types[digest.type].label).toBe('mapping(bytes32 => address)')
    expect(types[cid.type].label).toBe('mapping(bytes32 => address)')
    // the earlier slots stay where they were
    expect(layout.storage.map((e) => [e.label, Number(e.slot)])).toEqual([
      ['_models', 0],
      ['_allowed', 1],
      ['balances', 2],
      ['_ids', 3],
      ['_lock', 4],
      ['_digestOwner', 5],
      ['_cidOwner', 6],
    ])
  })

  it('places every Model member at the pinned slot offset; owner/status/policy share slot 0 at bytes 0/20/21', () => {
    const models = byLabel(layout.storage, '_models')
    const struct = types[types[models.type].value!]
    expect(struct.label).toBe('struct ModelRegistry.Model')
    const members = struct.members!
    const expected: Record<string, [bigint, number, string]> = {
      owner: [REGISTRY_LAYOUT.model.ownerStatusPolicy, 0, 'address'],
      status: [REGISTRY_LAYOUT.model.ownerStatusPolicy, 20, 'uint8'],
      policy: [REGISTRY_LAYOUT.model.ownerStatusPolicy, 21, 'uint8'],
    }
    const rest = Object.entries(REGISTRY_LAYOUT.model).filter(([k]) => k !== 'ownerStatusPolicy')
    for (const [label, slot] of rest) {
      const type = ['name', 'version', 'cid', 'format', 'io'].includes(label)
        ? 'string'
        : label === 'price' || label === 'inferences'
          ? 'uint256'
          : 'bytes32'
      expected[label] = [slot, 0, type]
    }
    const actual = Object.fromEntries(
      members.map((m) => [m.label, [BigInt(m.slot), m.offset, types[m.type].label.replace(/ storage$/, '')]]),
    )
    expect(actual).toEqual(expected)
    expect(BigInt(struct.numberOfBytes)).toBe(32n * (1n + BigInt(rest.length)))
  })

  it('uses the status and policy codes of registry-layout.ts', () => {
    const src = readFileSync(join(CONTRACTS_ROOT, 'contracts', 'ModelRegistry.sol'), 'utf8')
    const constant = (name: string): number => Number(src.match(new RegExp(`${name} = (\\d+);`))![1])
    expect(constant('STATUS_NONE')).toBe(ModelStatus.none)
    expect(constant('STATUS_ACTIVE')).toBe(ModelStatus.active)
    expect(constant('STATUS_DEPRECATED')).toBe(ModelStatus.deprecated)
    expect(constant('POLICY_PUBLIC')).toBe(AccessPolicy.public)
    expect(constant('POLICY_PRIVATE')).toBe(AccessPolicy.private)
    expect(constant('POLICY_ALLOWLIST')).toBe(AccessPolicy.allowlist)
  })
})
