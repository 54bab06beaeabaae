// The one set of checks a model passes before it is registered, run by `lattice model deploy` (on the
// user's machine, for an early answer) and by lattice_deployModel (on the node, which trusts no client):
// external data resolved inside the package, decode, no random ops, FLOPs for static shapes, sane tensor
// sizes, and a load in the consensus runtime — the session factory the precompile uses.
import { analyseModel, type ModelAnalysis } from './analysis.ts'
import { ModelCheckError } from './errors.ts'
import { expectedTensorBytes, inlineExternalData, type PackageFileReader } from './external-data.ts'
import { checkModelBounds, type InputShape } from './flops.ts'
import { createConsensusSession } from './onnx.ts'
import { decodeModel, type ModelProto, type TensorProto } from './proto.ts'

/** A session factory: loads a self-contained model and can dispose it. */
export type CheckSessionFactory = (opts: { model: Uint8Array }) => Promise<{ dispose(): Promise<void> }>

/** Options of {@link checkDeployableModel}. */
export interface DeployCheckOpts {
  /** The package's model file name (for messages). */
  modelName: string
  /** The model file's bytes. */
  model: Uint8Array
  /** The package's other files, for external data. */
  files: PackageFileReader
  /** Concrete input shapes for the FLOP count. */
  shapes?: Record<string, InputShape>
  /** Default: the consensus session factory (what every validator loads the model with). */
  createSession?: CheckSessionFactory
}

/** What a deployable model looks like after the checks. */
export interface DeployCheck {
  analysis: ModelAnalysis
  /** The model with its external data inlined: the bytes every runtime will load. */
  selfContained: Uint8Array
}

/** Run every deploy check; throws ModelCheckError saying what to fix. */
export async function checkDeployableModel(opts: DeployCheckOpts): Promise<DeployCheck> {
  const selfContained = await inlineExternalData(opts.model, opts.files)
  let decoded: ModelProto | undefined
  try {
    decoded = decodeModel(selfContained)
  } catch {
    // not an ONNX model: analyseModel says so
  }
  if (decoded) checkTensorSizes(decoded)
  const analysis = analyseModel(selfContained, opts.shapes ?? {})
  // no call could run within the memory bound, or the bound depends on computed data: refuse now (docs/gas.md)
  checkModelBounds(selfContained, { shapes: opts.shapes })
  const create = opts.createSession ?? createConsensusSession
  let session: { dispose(): Promise<void> }
  try {
    session = await create({ model: selfContained })
  } catch (err) {
    const why = ((err as { shortMessage?: string }).shortMessage ?? (err as Error).message ?? String(err)).split(
      '\n',
    )[0]
    throw new ModelCheckError(
      `the consensus runtime cannot load ${opts.modelName}: ${why}; re-export the model (every validator must load it)`,
    )
  }
  await session.dispose()
  return { analysis, selfContained }
}

/**
 * Every raw_data initializer holds exactly dims x element size bytes: a model that declares a 2 GB tensor
 * and gives 4 bytes is refused here, before any runtime allocates for it.
 */
function checkTensorSizes(m: ModelProto): void {
  const check = (t: TensorProto) => {
    if (!t.rawData || t.rawData.byteLength === 0) return
    const want = expectedTensorBytes(t)
    if (want !== undefined && want !== t.rawData.byteLength)
      throw new ModelCheckError(
        `tensor "${t.name ?? ''}" declares ${want === Number.POSITIVE_INFINITY ? 'more than 2^53' : want} bytes of data but holds ${t.rawData.byteLength}; re-export the model`,
      )
  }
  for (const t of m.graph?.initializer ?? []) check(t)
  for (const n of m.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) check(a.t)
}
