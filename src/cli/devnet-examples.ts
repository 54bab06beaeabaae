// `lattice devnet` deploys the example models and contracts on first start, so a fresh devnet has models ready.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, createAddressFromString } from '@ethereumjs/util'
import type { InterfaceAbi } from 'ethers'
import { LatticeError } from '../errors.ts'
import { analyseModel } from '../inference/analysis.ts'
import { encodeRegister, modelIdOf } from '../rpc/lattice.ts'
import { addModelPackage } from '../storage/package.ts'
import type { Devnet } from './devnet.ts'

/** The example models deployed, and the example contract that uses each. */
export const DEVNET_EXAMPLES = [
  { model: 'iris', contract: 'IrisClassifier' },
  { model: 'edges', contract: 'EdgeDetector' },
  { model: 'bigram', contract: 'TextGenerator' },
] as const

/** What {@link deployDevnetExamples} deployed (kept in `<datadir>/examples.json`). */
export interface DevnetExamples {
  models: { name: string; modelId: string; cid: string }[]
  contracts: { name: string; address: string; modelId: string }[]
  /** False when they were already there from an earlier start. */
  fresh: boolean
}

const REGISTRY = '0xA110000000000000000000000000000000000001'

interface ExampleModelLike {
  name: string
  bytes: Uint8Array
}

/** Where the record of deployed examples lives. */
export const examplesFile = (datadir: string) => join(datadir, 'examples.json')

/**
 * Register the example models from dev account 0 and deploy their example contracts, once per datadir.
 * Needs the source checkout (the models are built by examples/models, the contracts compiled with solc).
 */
export async function deployDevnetExamples(devnet: Devnet, datadir: string): Promise<DevnetExamples> {
  const file = examplesFile(datadir)
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DevnetExamples
    // still on the chain (a reset head could have dropped them)
    const last = saved.contracts.at(-1)
    const code = last ? await devnet.node.chain.stateManager.getCode(createAddressFromString(last.address)) : []
    if (code.length > 0) return { ...saved, fresh: false }
  }
  let examples: ExampleModelLike[]
  try {
    // computed so that `tsc -p tsconfig.build.json` (rootDir src) does not pull examples/ into the build
    const url = new URL('../../examples/models/index.ts', import.meta.url).href
    // examples/ is TypeScript: from the compiled CLI (dist/, plain node) it loads through tsx's loader
    const { tsImport } = await import('tsx/esm/api')
    const mod = (await tsImport(url, import.meta.url)) as { exampleModels(o: { only: string[] }): ExampleModelLike[] }
    examples = mod.exampleModels({ only: DEVNET_EXAMPLES.map((e) => e.model) })
  } catch (err) {
    throw new LatticeError(
      'EXAMPLES_UNAVAILABLE',
      `The example models could not be built (${(err as Error).message}). Run from the Lattice source checkout, or pass --no-examples.`,
    )
  }
  const { ContractFactory, JsonRpcProvider, Network, Wallet, Contract } = await import('ethers')
  const network = Network.from(devnet.node.chain.chainId)
  const provider = new JsonRpcProvider(devnet.server.url, network, {
    staticNetwork: network,
    batchMaxCount: 1,
    cacheTimeout: -1,
  })
  provider.pollingInterval = 50
  const wallet = new Wallet(bytesToHex(devnet.accounts[0].privateKey), provider)
  const owner = wallet.address
  const { contractAbi } = await import('../chain/abi.ts')
  const registry = new Contract(REGISTRY, contractAbi('ModelRegistry') as InterfaceAbi, provider)
  const out: DevnetExamples = { models: [], contracts: [], fresh: true }
  const dir = mkdtempSync(join(tmpdir(), 'lattice-examples-'))
  try {
    for (const m of examples) {
      const modelId = modelIdOf(owner, m.name, '1')
      const existing = await registry.getModel(modelId).catch(() => undefined)
      if (existing) {
        out.models.push({ name: m.name, modelId, cid: existing.cid as string })
        continue
      }
      const sub = join(dir, m.name)
      mkdirSync(sub)
      writeFileSync(join(sub, `${m.name}.onnx`), m.bytes)
      const pkg = await addModelPackage(devnet.store, { dir: sub }, { name: m.name })
      const data = encodeRegister({
        name: m.name,
        version: '1',
        cid: pkg.manifestCid,
        digest: pkg.digest,
        commitment: pkg.commitment,
        format: 'onnx',
        io: analyseModel(m.bytes).ioSummary,
        policy: 0,
        price: 0n,
      })
      const tx = await wallet.sendTransaction({ to: REGISTRY, data })
      const receipt = await tx.wait()
      if (receipt?.status !== 1)
        throw new LatticeError('EXAMPLES_FAILED', `Registering example model ${m.name} failed.`)
      out.models.push({ name: m.name, modelId, cid: pkg.manifestCid })
    }
    const artifacts = await exampleContracts()
    for (const e of DEVNET_EXAMPLES) {
      const model = out.models.find((m) => m.name === e.model)
      const a = artifacts[e.contract]
      if (!model || !a) continue
      const c = await new ContractFactory(a.abi as never, a.bytecode, wallet).deploy(model.modelId)
      await c.waitForDeployment()
      out.contracts.push({ name: e.contract, address: await c.getAddress(), modelId: model.modelId })
    }
  } finally {
    provider.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
  writeFileSync(file, `${JSON.stringify({ models: out.models, contracts: out.contracts }, null, 2)}\n`)
  return out
}

/**
 * The example contracts' ABI and bytecode. Compiling with solc-js takes seconds, so the result is kept in
 * build/examples/contracts.json (gitignored), keyed by the compiler and the sources it read.
 */
async function exampleContracts(): Promise<Record<string, { abi: unknown[]; bytecode: string }>> {
  const { createHash } = await import('node:crypto')
  const { readdirSync } = await import('node:fs')
  const { CONTRACTS_ROOT, SOLC_VERSION, compileContracts } = await import('../chain/contracts.ts')
  const hash = createHash('sha256').update(SOLC_VERSION)
  for (const d of ['contracts', 'examples/contracts']) {
    for (const f of readdirSync(join(CONTRACTS_ROOT, d))
      .filter((n) => n.endsWith('.sol'))
      .sort()) {
      hash.update(f).update(readFileSync(join(CONTRACTS_ROOT, d, f)))
    }
  }
  const key = hash.digest('hex')
  const file = join(CONTRACTS_ROOT, 'build', 'examples', 'contracts.json')
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as {
      key: string
      artifacts: Record<string, { abi: unknown[]; bytecode: string }>
    }
    if (cached.key === key) return cached.artifacts
  } catch {
    // no cache yet
  }
  const compiled = compileContracts({ dir: 'examples/contracts' })
  const artifacts = Object.fromEntries(
    Object.values(compiled).map((a) => [a.contractName, { abi: a.abi, bytecode: a.bytecode }]),
  )
  try {
    mkdirSync(join(CONTRACTS_ROOT, 'build', 'examples'), { recursive: true })
    writeFileSync(file, JSON.stringify({ key, artifacts }))
  } catch {
    // a read-only checkout: compile again next time
  }
  return artifacts
}
