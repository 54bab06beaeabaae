// The state-changing tools: send an inference transaction and deploy a model. Registered only when the
// server has a signer and is not --read-only; each states what it cost in its result.
import { Writable } from 'node:stream'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CliIO } from '../cli/command.ts'
import { LatticeError } from '../errors.ts'
import type { McpContext } from './context.ts'
import { requireSigner } from './context.ts'
import { McpInputError } from './errors.ts'
import { sendInference } from './inference.ts'
import { type ModelCatalog, modelUri } from './models.ts'
import { guarded } from './results.ts'
import * as s from './schemas.ts'

const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true } as const

/** The CLI helpers print progress to an io; the server's stdout may be the MCP transport, so it goes nowhere. */
const quietIO = (): CliIO => {
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() })
  return { stdout: sink(), stderr: sink(), isTTY: false }
}

/** Register send_inference and deploy_model; `changed` is told after each mined transaction. */
export function registerWriteTools(
  server: McpServer,
  ctx: McpContext,
  catalog: ModelCatalog,
  changed: () => void,
): void {
  server.registerTool(
    'send_inference',
    {
      title: 'Send an inference transaction',
      description:
        "Run a model in a transaction from this server's signer: costs gas and the model's price. The result states the quote made before sending (gas limit, gas price, price, the most it could cost) and what was paid, with the receipt and the outputs. Pass maxCostWei to refuse anything dearer. Its proof is available with get_inference_proof once mined.",
      inputSchema: s.sendInput,
      outputSchema: s.sendOutput,
      annotations: WRITE,
    },
    guarded(async ({ modelId, inputs, maxCostWei }) => {
      const signer = requireSigner(ctx, 'send_inference')
      const model = await catalog.get(modelId)
      if (maxCostWei !== undefined && !/^[0-9]{1,78}$/.test(maxCostWei))
        throw new McpInputError(`maxCostWei "${maxCostWei}" is not an amount of wei. Pass a decimal integer.`)
      const r = await sendInference(
        ctx,
        signer,
        model,
        inputs,
        maxCostWei === undefined ? undefined : BigInt(maxCostWei),
      )
      changed()
      return {
        structured: { modelId: model.modelId, ...r },
        summary: `Sent ${r.txHash} (block ${r.blockNumber}, ${r.status}): gas used ${r.paid.gasUsed} at ${r.paid.effectiveGasPrice} wei = ${r.paid.gasFeeWei} wei, plus price ${r.paid.priceWei} wei; total ${r.paid.totalWei} wei.`,
      }
    }),
  )

  server.registerTool(
    'deploy_model',
    {
      title: 'Deploy a model from a local file',
      description:
        "Check a local ONNX model, add its package to the node's IPFS store and register it in ModelRegistry from this server's signer (costs gas). Returns the model id, CID, FLOPs, io and the registration receipt.",
      inputSchema: s.deployInput,
      outputSchema: s.deployOutput,
      annotations: WRITE,
    },
    guarded(async (a) => {
      requireSigner(ctx, 'deploy_model')
      const { addressesFlag, modelPackageFiles, policyFlag, weiFlag } = await import('../cli/model-client.ts')
      const { deployModelPackage } = await import('../cli/model-deploy.ts')
      // the CLI's checks name flags (--model, --price); say which tool argument instead
      const arg = <T>(name: string, f: () => Promise<T> | T): Promise<T> =>
        Promise.resolve()
          .then(f)
          .catch((err: unknown) => {
            throw new McpInputError(`${name}: ${err instanceof LatticeError ? err.shortMessage : String(err)}`)
          })
      const files = await arg('path', () => modelPackageFiles(a.path))
      const req = {
        files,
        name: a.name,
        version: a.version ?? '1',
        policy: await arg('policy', () => policyFlag(a.policy)),
        price: await arg('priceWei', () => weiFlag(a.priceWei, 'priceWei')),
        allow: await arg('allow', () => addressesFlag(a.allow?.join(','), 'allow')),
        description: a.description,
        shapes: a.inputShapes ?? {},
      }
      const r = await deployModelPackage(ctx.conn, quietIO(), req)
      const receipt = await ctx.call<{ effectiveGasPrice?: string }>('eth_getTransactionReceipt', [r.txHash])
      const fee = BigInt(r.gasUsed) * BigInt(receipt.effectiveGasPrice ?? '0x0')
      changed()
      return {
        structured: { ...r, gasFeeWei: fee.toString(), resourceUri: modelUri(r.modelId) },
        summary: `Deployed "${a.name}" version ${req.version} as ${r.modelId} (tx ${r.txHash}, gas used ${r.gasUsed}, fee ${fee} wei).`,
      }
    }),
  )
}
