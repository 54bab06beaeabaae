import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, Interface, type Signer } from 'ethers'
import type { ExampleModel } from '../../examples/models/index.ts'
import { exampleModels } from '../../examples/models/index.ts'
import { addModelPackage } from '../../src/storage/package.ts'
import type { ModelStore } from '../../src/storage/types.ts'

export const REGISTRY = '0xA110000000000000000000000000000000000001'
export const INFERENCE = '0x0000000000000000000000000000000000000A11'

const TENSOR = 'tuple(string name, uint8 dtype, uint64[] shape, bytes data)'
export const registryAbi = new Interface([
  'function register(tuple(string name, string version, string cid, bytes32 digest, bytes32 commitment, string format, string io, uint8 policy, uint256 price) spec) returns (bytes32)',
  'function modelIdOf(address owner, string name, string version) pure returns (bytes32)',
  'function deprecate(bytes32 modelId)',
  'function setAccessPolicy(bytes32 modelId, uint8 policy)',
  'function allow(bytes32 modelId, address account)',
  'function setPrice(bytes32 modelId, uint256 price)',
  `function infer(bytes32 modelId, ${TENSOR}[] inputs) payable returns (${TENSOR}[])`,
  'function inferenceCount(bytes32 modelId) view returns (uint256)',
  'function balances(address) view returns (uint256)',
  'function withdraw() returns (uint256)',
  'event ModelRegistered(bytes32 indexed modelId, address indexed owner, string name, string version, string cid, bytes32 digest)',
])
export const inferenceAbi = new Interface([
  `function infer(bytes32 modelId, ${TENSOR}[] inputs) returns (${TENSOR}[] outputs)`,
  `function inferBatch(bytes32 modelId, ${TENSOR}[][] batch) returns (${TENSOR}[][] outputs)`,
  `function estimate(bytes32 modelId, ${TENSOR}[] inputs) view returns (uint256 flops, uint256 gas)`,
])

export function exampleModel(name: string): ExampleModel {
  const m = exampleModels().find((x) => x.name === name)
  if (!m) throw new Error(`no example model ${name}`)
  return m
}

/** Add a model to the devnet's IPFS store as a package and register it; returns ids and package facts. */
export async function deployModel(
  store: ModelStore,
  signer: Signer,
  model: Uint8Array,
  opts: { name: string; version?: string; policy?: number; price?: bigint },
): Promise<{ modelId: string; cid: string; digest: string; commitment: string; txHash: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-model-'))
  let pkg: Awaited<ReturnType<typeof addModelPackage>>
  try {
    writeFileSync(join(dir, 'model.onnx'), model)
    pkg = await addModelPackage(store, { dir }, { name: opts.name })
  } finally {
    // the store holds the bytes once added; the directory was only the package's source (one was left per call)
    rmSync(dir, { recursive: true, force: true })
  }
  const registry = new Contract(REGISTRY, registryAbi, signer)
  const spec = {
    name: opts.name,
    version: opts.version ?? '1',
    cid: pkg.manifestCid,
    digest: pkg.digest,
    commitment: pkg.commitment,
    format: 'onnx',
    io: '',
    policy: opts.policy ?? 0,
    price: opts.price ?? 0n,
  }
  const tx = await registry.register(spec)
  const receipt = await tx.wait()
  if (receipt?.status !== 1) throw new Error('register failed')
  const modelId = await registry.modelIdOf(await signer.getAddress(), spec.name, spec.version)
  return { modelId, cid: pkg.manifestCid, digest: pkg.digest, commitment: pkg.commitment, txHash: tx.hash }
}

/** A canonical tensor as the ABI tuple. */
export const abiTensor = (t: { name: string; dtype: number; shape: number[]; data: Uint8Array }) => [
  t.name,
  t.dtype,
  t.shape.map(BigInt),
  t.data,
]

/** Directories made by {@link writeTemp}: the caller reads the file later, so they go when the test process exits. */
const tempDirs: string[] = []
process.once('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
})

export function writeTemp(name: string, bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-'))
  tempDirs.push(dir)
  const p = join(dir, name)
  writeFileSync(p, bytes)
  return p
}
