// The deploy path shared by `model deploy`, `model update` and `model import-hf`: check the model, push the
// package to the node's IPFS store over lattice_deployModel, then register it from the caller's key.
import { readFile } from 'node:fs/promises'
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
  const { analyseModel } = await import('../inference/analysis.ts')
  const analysis = analyseModel(model.data, req.shapes)
  if (!files.some((f) => f.name !== model.name && /\.(onnx_data|onnx\.data|data|bin)$/.test(f.name))) {
    // the model must load in ONNX Runtime with the consensus profile, as every validator will load it
    const { createConsensusSession } = await import('../inference/onnx.ts')
    const session = await createConsensusSession({ model: model.data }).catch((err: Error) => {
      throw new CliFlagError(
        `ONNX Runtime cannot load ${model.name}: ${err.message.split('\n')[0]}. Re-export the model.`,
      )
    })
    await session.dispose()
  }
  const total = files.reduce((a, f) => a + f.data.length, 0)
  if (io.isTTY) io.stderr.write(`Uploading ${files.length} file(s), ${formatBytes(total)}, to ${conn.url} ...\n`)
  const owner = await conn.signer.getAddress()
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
      files: files.map((f) => ({ name: f.name, data: Buffer.from(f.data).toString('base64') })),
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
