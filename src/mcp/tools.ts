// The read-only tools: list/search and get models, estimate, run with eth_call, fetch and verify proofs,
// chain status. None of them changes state or needs a key.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { McpContext } from './context.ts'
import { McpInputError } from './errors.ts'
import { callInference, callRequest, estimateCost } from './inference.ts'
import type { ModelCatalog } from './models.ts'
import { getProof, verifyProof } from './proofs.ts'
import { guarded } from './results.ts'
import * as s from './schemas.ts'
import { chainStatus } from './status.ts'

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const

/** Register the read-only tools on `server`. */
export function registerReadTools(server: McpServer, ctx: McpContext, catalog: ModelCatalog): void {
  server.registerTool(
    'list_models',
    {
      title: 'List or search models',
      description:
        'Models registered on the Lattice chain (ModelRegistry): id, name, version, owner, io (input/output tensors), FLOPs, price, access policy, status. Filter by owner, name, status, policy, or free text (query).',
      inputSchema: s.listModelsInput,
      outputSchema: s.listModelsOutput,
      annotations: READ,
    },
    guarded(async (a) => {
      const r = await catalog.list(a)
      return { structured: r, summary: `${r.models.length} of ${r.total} model(s)` }
    }),
  )

  server.registerTool(
    'get_model',
    {
      title: 'Get a model card',
      description:
        "One model's card: inputs and outputs with shapes, a FLOP and gas profile, price, access policy, versions, CID and package digest.",
      inputSchema: s.modelIdInput,
      outputSchema: s.modelCardSchema.shape,
      annotations: READ,
    },
    guarded(async ({ modelId }) => ({ structured: { ...(await catalog.card(await catalog.get(modelId))) } })),
  )

  server.registerTool(
    'estimate_inference',
    {
      title: 'Estimate the gas and price of an inference',
      description:
        "The precompile's FLOPs and gas for these inputs, the whole transaction's gas, the gas price and the model's price. Also checks the inputs against the model, naming any wrong shape or dtype.",
      inputSchema: s.inferenceInput,
      outputSchema: s.estimateOutput,
      annotations: READ,
    },
    guarded(async ({ modelId, inputs }) => {
      const model = await catalog.get(modelId)
      const from = ctx.signer ? await ctx.signer.getAddress() : undefined
      const cost = await estimateCost(ctx, model, inputs, from)
      const gasPrice = BigInt(await ctx.call<string>('eth_gasPrice'))
      const structured: Record<string, unknown> = { modelId: model.modelId, cost, gasPrice: gasPrice.toString() }
      // the whole transaction needs a sender who can pay the price; without one only the inference gas is known
      const price = BigInt(model.price)
      if (price > 0n && !from) {
        structured.txGas = null
        structured.estimatedCostWei = null
        structured.note = 'a priced model: start the server with a signer to estimate the whole transaction'
      } else {
        const req = callRequest(model, inputs, from)
        const txGas = BigInt(await ctx.call<string>('eth_estimateGas', [req]))
        structured.txGas = txGas.toString()
        structured.estimatedCostWei = (txGas * gasPrice + price).toString()
      }
      return { structured }
    }),
  )

  server.registerTool(
    'call_inference',
    {
      title: 'Run an inference off chain (eth_call)',
      description:
        'Run a registered model on input tensors with eth_call at the chain head: free, sends nothing, and returns the exact bits a transaction would produce now (the same as `lattice model inference`).',
      inputSchema: s.inferenceInput,
      outputSchema: s.callOutput,
      annotations: READ,
    },
    guarded(async ({ modelId, inputs }) => {
      const model = await catalog.get(modelId)
      const r = await callInference(ctx, model, inputs)
      return {
        structured: { modelId: model.modelId, ...r },
        summary: `eth_call at block ${r.blockNumber}: ${Object.keys(r.outputs).length} output tensor(s)`,
      }
    }),
  )

  server.registerTool(
    'get_inference_proof',
    {
      title: 'Get an inference proof',
      description:
        "The proof of an inference run by a mined transaction: its record (model, input and output hashes, FLOPs), the Merkle path to the block's inference root, and the validators' signatures.",
      inputSchema: s.proofInput,
      outputSchema: s.proofOutput,
      annotations: READ,
    },
    guarded(async ({ txHash, index }) => ({ structured: { ...(await getProof(ctx, txHash, index)) } })),
  )

  server.registerTool(
    'verify_inference_proof',
    {
      title: 'Verify an inference proof',
      description:
        "Verify a proof (or fetch the proof of txHash first): the Merkle path to the root, the validators' signatures of the root, and InferenceVerifier.verifyInference on the chain.",
      inputSchema: s.verifyInput,
      outputSchema: s.verifyOutput,
      annotations: READ,
    },
    guarded(async ({ proof, txHash, index }) => {
      if (!proof && !txHash) throw new McpInputError('Pass a proof (from get_inference_proof) or a txHash.')
      const v = await verifyProof(ctx, proof ?? (await getProof(ctx, txHash!, index)))
      return { structured: { ...v }, summary: v.valid ? 'valid' : 'INVALID' }
    }),
  )

  server.registerTool(
    'chain_status',
    {
      title: 'Chain status',
      description:
        "The node's head block, gas price, chain id, inference profile, registry index, and this server's signer (or read-only).",
      inputSchema: {},
      outputSchema: s.statusOutput,
      annotations: READ,
    },
    guarded(async () => ({ structured: await chainStatus(ctx) })),
  )
}
