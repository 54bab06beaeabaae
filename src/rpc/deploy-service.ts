// What lattice_deployModel does with a package before it returns a registration: run the deploy checks
// `lattice model deploy` runs (inference/deploy-check.ts: external data inside the package, decode, no random
// ops, FLOPs, tensor sizes, a load in the consensus runtime) once, then add and pin the package.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LatticeError } from '../errors.ts'
import type { ModelAnalysis } from '../inference/analysis.ts'
import { type CheckSessionFactory, checkDeployableModel } from '../inference/deploy-check.ts'
import { dirFileReader } from '../inference/external-data.ts'
import type { CachedPackage } from '../storage/cache.ts'
import { addModelPackage, readManifest } from '../storage/package.ts'
import type { ModelStore } from '../storage/types.ts'
import { invalidParams } from './errors.ts'

/** What the deploy service needs from the node. */
export interface DeployServiceDeps {
  store: ModelStore
  /** The local model cache: a package named by CID is fetched and verified there. */
  models: { getPackage(cid: string, digest: string): Promise<CachedPackage> }
  /** Record a package this node added as pinned. */
  pinPackage(cid: string, digest: string): Promise<void>
  /** Session factory of the load check (default: the consensus runtime's, as the precompile loads models). */
  createSession?: CheckSessionFactory
}

/** Where a package comes from. */
export type DeploySource =
  | { files: { name: string; data: Uint8Array }[] }
  | { dir: string; sizes: ReadonlyMap<string, number> }
  | { cid: string; digest: string }

/** A checked package on the node's store. */
export interface DeployedPackage {
  cid: string
  digest: string
  commitment: string
  size: number
  analysis: ModelAnalysis
}

/** Check a package once and, unless it is already stored (a CID), add and pin it. Bad packages are -32602. */
export async function preparePackage(
  deps: DeployServiceDeps,
  source: DeploySource,
  opts: { name: string; shapes: Record<string, number[]> },
): Promise<DeployedPackage> {
  if ('cid' in source) {
    let pkg: CachedPackage
    let commitment: string
    let size: number
    try {
      const r = await readManifest(deps.store, source.cid, source.digest)
      commitment = r.manifest.commitment.root
      size = r.manifest.totalSize
      pkg = await deps.models.getPackage(source.cid, r.digest)
    } catch (err) {
      throw invalidParams(
        `invalid argument request.cid: package ${source.cid} cannot be read with that digest (${message(err)})`,
      )
    }
    const analysis = await check(deps, pkg.dir, new Map(pkg.manifest.files.map((f) => [f.name, f.size])), opts)
    return { cid: source.cid, digest: pkg.digest, commitment, size, analysis }
  }
  if ('dir' in source) return addDir(deps, source.dir, source.sizes, opts)
  const dir = await mkdtemp(join(tmpdir(), 'lattice-deploy-'))
  try {
    for (const f of source.files) await writeFile(join(dir, f.name), f.data)
    return await addDir(deps, dir, new Map(source.files.map((f) => [f.name, f.data.byteLength])), opts)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function addDir(
  deps: DeployServiceDeps,
  dir: string,
  sizes: ReadonlyMap<string, number>,
  opts: { name: string; shapes: Record<string, number[]> },
): Promise<DeployedPackage> {
  const analysis = await check(deps, dir, sizes, opts)
  const pkg = await addModelPackage(deps.store, { dir }, { name: opts.name })
  await deps.pinPackage(pkg.manifestCid, pkg.digest)
  return {
    cid: pkg.manifestCid,
    digest: pkg.digest,
    commitment: pkg.commitment,
    size: pkg.manifest.totalSize,
    analysis,
  }
}

async function check(
  deps: DeployServiceDeps,
  dir: string,
  sizes: ReadonlyMap<string, number>,
  opts: { shapes: Record<string, number[]> },
): Promise<ModelAnalysis> {
  const models = [...sizes.keys()].filter((n) => n.toLowerCase().endsWith('.onnx'))
  if (models.length !== 1)
    throw invalidParams(
      `invalid argument request: expected exactly one .onnx file, got ${models.length} (${models.join(', ') || 'none'})`,
    )
  const model = new Uint8Array(await readFile(join(dir, models[0])))
  try {
    const r = await checkDeployableModel({
      modelName: models[0],
      model,
      files: dirFileReader(dir, sizes),
      shapes: opts.shapes,
      createSession: deps.createSession,
    })
    return r.analysis
  } catch (err) {
    if (err instanceof LatticeError) throw invalidParams(`invalid argument request.model: ${err.shortMessage}`)
    throw err
  }
}

function message(err: unknown): string {
  return (err as LatticeError).shortMessage ?? String(err)
}
