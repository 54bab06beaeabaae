// The deploy path shared by `model deploy`, `model update` and `model import-hf`: check the model, push the
// package to the node's IPFS store over lattice_deployModel, then register it from the caller's key.
import { readFile } from 'node:fs/promises'
import type { LatticeError } from '../errors.ts'
import type { CliIO } from './command.ts'
import { CliFlagError, NodeRequestError } from './errors.ts'
import type { NodeConnection } from './model-client.ts'
import { formatBytes, REGISTRY_ABI, REGISTRY_ADDRESS, sendAndWait } from './model-client.ts'

/** What to deploy. */
export interface DeployRequest {
  files: { name: string; path?: string; data?: Uint8Array }[]
  name: string
  version: string
  policy: number
  price: bigint
  allow: string[]
  description?: string
  shapes: Record<string, number[]>
  /** Register as a new version of this model (ModelRegistry.update) instead of a new model. */
  updateOf?: string
}

/** What a deploy did (the `--json` shape of `model deploy`). */
export interface DeployResult {
  modelId: string
  cid: string
  digest: string
  commitment: string
  size: number
  flops: number | null
  flopsNote?: string
  io: string
  txHash: string
  blockNumber: number
  gasUsed: string
  owner: string
  allowTxs: string[]
}

/** Check, upload, register. Nothing is registered unless the package is stored and the model checks out. */
export async function deployModelPackage(conn: NodeConnection, io: CliIO, req: DeployRequest): Promise<DeployResult> {
  if (!conn.signer) throw new CliFlagError('Deploying needs a signer. Pass --private-key or --keystore.')
  const files = await Promise.all(
    req.files.map(async (f) => ({ name: f.name, data: f.data ?? new Uint8Array(await readFile(f.path!)) })),
  )
  if (req.description) files.push({ name: 'description.txt', data: new TextEncoder().encode(`${req.description}\n`) })
  const model = files.find((f) => f.name.endsWith('.onnx'))
  if (!model) throw new CliFlagError('The package has no .onnx file. Pass --model with an ONNX model.')
  // the checks the node runs again (lattice_deployModel trusts no client): external data inside the package,
  // decode, no random ops, FLOPs, tensor sizes, and a load in the consensus runtime
  const { checkDeployableModel } = await import('../inference/deploy-check.ts')
  const { memoryFileReader } = await import('../inference/external-data.ts')
  const { analysis } = await checkDeployableModel({
    modelName: model.name,
    model: model.data,
    files: memoryFileReader(files),
    shapes: req.shapes,
  }).catch((err: LatticeError) => {
    throw new CliFlagError(`${model.name}: ${err.shortMessage ?? err.message}.`)
  })
  const total = files.reduce((a, f) => a + f.data.length, 0)
  const owner = await conn.signer.getAddress()
  // the node stores bytes only with the owner's signature over them (docs/rpc.md, "Staged uploads")
  const auth = await signUpload(conn, owner, files)
  // small packages go inline; larger ones are staged in chunks (each request stays under the node's body limit)
  let source: Record<string, unknown>
  if (total <= INLINE_BYTES) {
    source = {
      files: files.map((f) => ({ name: f.name, data: Buffer.from(f.data).toString('base64') })),
      auth: { expires: auth.expires, signature: auth.signature },
    }
  } else {
    source = { upload: await uploadInChunks(conn, io, files, total, owner, auth) }
  }
  const added = await conn.call<{
    modelId: string
    cid: string
    digest: string
    commitment: string
    size: number
    flops: number | null
    io: string
  }>('lattice_deployModel', [
    {
      ...source,
      name: req.name,
      version: req.version,
      policy: req.policy,
      price: req.price.toString(),
      from: owner,
      send: false,
      inputShapes: req.shapes,
    },
  ])
  const { Contract } = await import('ethers')
  const registry = new Contract(REGISTRY_ADDRESS, REGISTRY_ABI, conn.signer)
  const spec = {
    name: req.name,
    version: req.version,
    cid: added.cid,
    digest: added.digest,
    commitment: added.commitment,
    format: 'onnx',
    io: added.io,
    policy: req.policy,
    price: req.price,
  }
  const data = req.updateOf
    ? registry.interface.encodeFunctionData('update', [req.updateOf, spec])
    : registry.interface.encodeFunctionData('register', [spec])
  const receipt = await sendAndWait(
    conn,
    { to: REGISTRY_ADDRESS, data },
    req.updateOf ? `Registering the new version of ${req.updateOf}` : `Registering "${req.name}"`,
  )
  if (!added.modelId) throw new NodeRequestError('lattice_deployModel returned no model id; update the node.')
  const allowTxs: string[] = []
  for (const a of req.allow) {
    const r = await sendAndWait(
      conn,
      { to: REGISTRY_ADDRESS, data: registry.interface.encodeFunctionData('allow', [added.modelId, a]) },
      `Allowing ${a}`,
    )
    allowTxs.push(r.hash)
  }
  return {
    modelId: added.modelId,
    cid: added.cid,
    digest: added.digest,
    commitment: added.commitment,
    size: added.size,
    flops: analysis.flops,
    ...(analysis.flopsNote ? { flopsNote: analysis.flopsNote } : {}),
    io: added.io,
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed.toString(),
    owner,
    allowTxs,
  }
}

/** The signed authority for storing a package on the node. */
interface UploadAuth {
  files: { name: string; size: number; sha256: string }[]
  expires: number
  signature: string
}

/** How long an upload signature is valid: long enough to stage a large package on a slow link. */
const UPLOAD_SIGNATURE_SECONDS = 2 * 60 * 60

/** Sign the upload message (EIP-191) naming the owner, every file's size and sha256, an expiry and the chain. */
async function signUpload(
  conn: NodeConnection,
  owner: string,
  files: { name: string; data: Uint8Array }[],
): Promise<UploadAuth> {
  const { createHash } = await import('node:crypto')
  const { uploadMessage } = await import('../rpc/uploads.ts')
  const list = files.map((f) => ({
    name: f.name,
    size: f.data.length,
    sha256: createHash('sha256').update(f.data).digest('hex'),
  }))
  const expires = Math.floor(Date.now() / 1000) + UPLOAD_SIGNATURE_SECONDS
  const message = uploadMessage({ chainId: conn.chainId, sender: owner, files: list, expires })
  return { files: list, expires, signature: await conn.signer!.signMessage(message) }
}

/** Packages up to this size are sent in the lattice_deployModel request itself. */
export const INLINE_BYTES = 2 * 1024 * 1024

/** Stage files on the node with lattice_createUpload / lattice_uploadChunk; a progress bar on a terminal. */
async function uploadInChunks(
  conn: NodeConnection,
  io: CliIO,
  files: { name: string; data: Uint8Array }[],
  total: number,
  owner: string,
  auth: UploadAuth,
): Promise<string> {
  const { uploadId, maxChunkBytes } = await conn.call<{ uploadId: string; maxChunkBytes: number }>(
    'lattice_createUpload',
    [{ from: owner, files: auth.files, expires: auth.expires, signature: auth.signature }],
  )
  let bar: { start(t: number, v: number): void; update(v: number): void; stop(): void } | undefined
  if (io.isTTY) {
    const { SingleBar, Presets } = await import('cli-progress')
    bar = new SingleBar(
      { format: 'Uploading [{bar}] {percentage}% {value}/{total} bytes', stream: io.stderr as never },
      Presets.shades_classic,
    )
    bar.start(total, 0)
  }
  let done = 0
  try {
    for (const f of files) {
      // an empty file is complete once the upload exists
      for (let off = 0; off < f.data.length; off += maxChunkBytes) {
        const chunk = f.data.subarray(off, off + maxChunkBytes)
        await conn.call('lattice_uploadChunk', [
          { uploadId, name: f.name, offset: off, data: Buffer.from(chunk).toString('base64') },
        ])
        done += chunk.length
        bar?.update(done)
      }
    }
  } finally {
    bar?.stop()
  }
  return uploadId
}

/** The human lines of a deploy result. */
export function describeDeploy(r: DeployResult): string {
  return [
    `Model id:   ${r.modelId}`,
    `CID:        ${r.cid}`,
    `Digest:     ${r.digest}`,
    `Size:       ${formatBytes(r.size)} (${r.size} bytes)`,
    `FLOPs:      ${r.flops ?? `unknown (${r.flopsNote})`}`,
    `I/O:        ${r.io}`,
    `Owner:      ${r.owner}`,
    `Tx:         ${r.txHash} (block ${r.blockNumber}, gas ${r.gasUsed})`,
    ...r.allowTxs.map((h) => `Allow tx:   ${h}`),
  ].join('\n')
}
