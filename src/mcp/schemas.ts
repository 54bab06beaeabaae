// JSON Schemas (as zod shapes, which the SDK publishes as JSON Schema) of the tools' inputs and outputs.
import { z } from 'zod'

const modelId = z
  .string()
  .describe('model id: 0x followed by 64 hex digits, as list_models shows')
  .regex(/^0x[0-9a-fA-F]{64}$/, 'a model id is 0x followed by 64 hex digits')

/** Tensors by input name: a nested array (dtype from the model) or {dtype, shape, data}. */
const inputs = z
  .record(z.string(), z.unknown())
  .describe(
    'input tensors by name: a nested array like {"x": [[5.1, 3.5, 1.4, 0.2]]} (dtype and shape from the model io) or {"x": {"dtype": "float32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}}',
  )

const wei = z.string().describe('an amount of wei, decimal')
const ioTensor = z.object({ name: z.string(), dtype: z.string(), shape: z.array(z.union([z.number(), z.string()])) })

export const modelSummarySchema = z.object({
  modelId: z.string(),
  name: z.string(),
  version: z.string(),
  owner: z.string(),
  status: z.string(),
  policy: z.string(),
  priceWei: wei,
  io: z.string().describe('inputs -> outputs, e.g. x:float32[N,4] -> label:int64[N]'),
  cid: z.string(),
  runs: z.number(),
  flops: z.string().nullable().describe('FLOPs of one run with symbolic dims set to 1, if the node could estimate'),
  resourceUri: z.string(),
})

export const modelCardSchema = z.object({
  modelId: z.string(),
  name: z.string(),
  version: z.string(),
  owner: z.string(),
  status: z.string(),
  policy: z.string(),
  allowlist: z.array(z.string()),
  priceWei: wei,
  cid: z.string(),
  digest: z.string(),
  commitment: z.string(),
  format: z.string(),
  io: z.string(),
  inputs: z.array(ioTensor),
  outputs: z.array(ioTensor),
  flopsProfile: z.object({
    shapes: z.record(z.string(), z.array(z.number())),
    flops: z.string().optional(),
    gas: z.string().optional(),
    error: z.string().optional(),
  }),
  versions: z.object({ previous: z.string().nullable(), next: z.string().nullable() }),
  usage: z.object({ runs: z.number(), paidInferences: z.string() }),
  registered: z.object({ block: z.number(), tx: z.string(), updatedBlock: z.number() }),
  resourceUri: z.string(),
})

const tensorsOut = {
  outputs: z
    .record(z.string(), z.object({ dtype: z.string(), shape: z.array(z.number()), data: z.array(z.unknown()) }))
    .describe('output tensors by name, as `lattice model inference` prints them'),
  raw: z
    .array(
      z.object({
        name: z.string(),
        dtype: z.number(),
        dtypeName: z.string(),
        shape: z.array(z.number()),
        data: z.string(),
      }),
    )
    .describe('the exact output bytes the chain returned (0x-hex), per tensor'),
}

const cost = z.object({
  flops: z.string(),
  inferenceGas: z.string().describe('gas the precompile charges for this run'),
  priceWei: wei.describe("the model's price per inference, paid to its owner"),
})

export const listModelsInput = {
  query: z.string().optional().describe('free text matched against name, version, id, owner, io, CID'),
  owner: z.string().optional().describe('only models owned by this address'),
  name: z.string().optional().describe('only models with exactly this name'),
  status: z.enum(['active', 'deprecated']).optional(),
  policy: z.enum(['public', 'private', 'allowlist']).optional(),
  offset: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(1000).optional().describe('default 20'),
}
export const listModelsOutput = { models: z.array(modelSummarySchema), total: z.number() }

export const modelIdInput = { modelId }

export const inferenceInput = { modelId, inputs }

export const estimateOutput = {
  modelId: z.string(),
  cost,
  txGas: z.string().nullable().describe('eth_estimateGas of the whole transaction, when it could be estimated'),
  gasPrice: wei.describe('the node gas price (eth_gasPrice)'),
  estimatedCostWei: wei.nullable().describe('txGas x gasPrice + price'),
  note: z.string().optional(),
}

export const callOutput = {
  modelId: z.string(),
  blockNumber: z.number().describe('the head the eth_call ran on'),
  cost: cost.describe('what a transaction with these inputs would cost in inference gas and price (eth_call is free)'),
  ...tensorsOut,
}

export const sendInput = {
  modelId,
  inputs,
  maxCostWei: wei.optional().describe('refuse to send when gas limit x gas price + price exceeds this'),
}
export const sendOutput = {
  modelId: z.string(),
  txHash: z.string(),
  blockNumber: z.number(),
  status: z.enum(['success', 'reverted']),
  quote: cost.extend({
    txGas: z.string(),
    gasLimit: z.string(),
    gasPrice: wei,
    maxCostWei: wei.describe('the most this transaction could cost, stated before it was sent'),
  }),
  paid: z.object({
    gasUsed: z.string(),
    effectiveGasPrice: wei,
    gasFeeWei: wei,
    priceWei: wei,
    totalWei: wei.describe('gas fee plus price: what the signer paid'),
  }),
  ...tensorsOut,
  receipt: z.record(z.string(), z.unknown()).describe('the transaction receipt (eth_getTransactionReceipt)'),
}

export const proofInput = {
  txHash: z.string().describe('hash of the transaction that ran the inference'),
  index: z.number().int().min(0).optional().describe('which inference of the transaction (default: its first)'),
}

const proofShape = {
  record: z.object({
    chainId: z.string(),
    blockNumber: z.string(),
    txHash: z.string(),
    index: z.string(),
    modelId: z.string(),
    inputHash: z.string(),
    outputHash: z.string(),
    flops: z.string(),
  }),
  proof: z.array(z.string()),
  root: z.string(),
  blockNumber: z.string(),
  blockHash: z.string(),
  signatures: z.array(z.object({ signer: z.string(), signature: z.string() })),
}
export const proofOutput = proofShape

export const verifyInput = {
  proof: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('a proof as get_inference_proof returns it; or pass txHash (and index) to fetch it'),
  txHash: z.string().optional(),
  index: z.number().int().min(0).optional(),
}
export const verifyOutput = {
  valid: z.boolean().describe('true only when the Merkle path, the signatures and the chain all agree'),
  merkle: z.object({ valid: z.boolean() }),
  signatures: z.object({
    valid: z.boolean(),
    signers: z.array(z.string()),
    validators: z.array(z.string()),
    threshold: z.number(),
  }),
  onChain: z.object({ valid: z.boolean(), verifier: z.string(), checkedAt: z.string() }),
  record: proofShape.record,
  blockNumber: z.string(),
  root: z.string(),
}

export const deployInput = {
  path: z
    .string()
    .describe('a local .onnx file (external data and tokenizer/config files beside it go too) or a package directory'),
  name: z.string().min(1),
  version: z.string().optional().describe('default "1"'),
  policy: z.enum(['public', 'private', 'allowlist']).optional(),
  priceWei: wei.optional().describe('price per inference through ModelRegistry.infer (default 0)'),
  allow: z.array(z.string()).optional().describe('addresses to allow (allowlist policy)'),
  description: z.string().optional(),
  inputShapes: z
    .record(z.string(), z.array(z.number().int().min(0)))
    .optional()
    .describe('concrete input shapes for the FLOP count, e.g. {"x": [1, 4]}'),
}
export const deployOutput = {
  modelId: z.string(),
  cid: z.string(),
  digest: z.string(),
  commitment: z.string(),
  size: z.number(),
  flops: z.number().nullable(),
  flopsNote: z.string().optional(),
  io: z.string(),
  txHash: z.string(),
  blockNumber: z.number(),
  gasUsed: z.string(),
  gasFeeWei: wei,
  owner: z.string(),
  allowTxs: z.array(z.string()),
  resourceUri: z.string(),
}

export const statusOutput = {
  rpcUrl: z.string(),
  chainId: z.string(),
  head: z.object({ number: z.number(), hash: z.string(), timestamp: z.number() }),
  gasPrice: wei,
  clientVersion: z.string().optional(),
  consensusProfile: z.string().optional(),
  stateProfile: z.string().optional(),
  registry: z.object({ address: z.string(), indexedBlock: z.number(), models: z.number() }).optional(),
  devnet: z.boolean().optional(),
  signer: z.string().nullable().describe('the account state-changing tools send from, or null (read-only)'),
  readOnly: z.boolean(),
}
