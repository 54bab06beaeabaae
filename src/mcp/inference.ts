// Inference through the chain, encoded exactly as `lattice model inference` encodes it: a free model is called
// on the precompile, a priced one through ModelRegistry.infer with its price as value. eth_call gives the
// chain's exact bits for free; a transaction is sent only from the configured signer, after stating its cost.
import type { Wallet } from 'ethers'
import { Interface, type InterfaceAbi } from 'ethers'
import { contractAbi } from '../chain/abi.ts'
import type { IndexedModel } from '../chain/registry-index.ts'
import { INFERENCE_ADDRESS, REGISTRY_ADDRESS, sendAndWait } from '../cli/model-client.ts'
import { LatticeError } from '../errors.ts'
import { formatTensorJson, parseTensorJson } from '../inference/json.ts'
import { dtypeName, type Tensor } from '../inference/tensor.ts'
import type { McpContext } from './context.ts'
import { McpCostLimitError, McpInputError, McpNodeError } from './errors.ts'
import { parseIoSummary } from './models.ts'

/** Tensors as the tools return them: the JSON form and the raw bytes the chain returned. */
export interface TensorsOut {
  /** `{name: {dtype, shape, data}}`, the `outputs` object of the tensor JSON format (docs/tensors.md). */
  outputs: Record<string, { dtype: string; shape: number[]; data: unknown[] }>
  /** Each output as the precompile's ABI carries it: dtype code, shape, and the data bytes as 0x-hex. */
  raw: { name: string; dtype: number; dtypeName: string; shape: number[]; data: string }[]
}

/** What a run would cost, from the node's estimates, before anything is sent. */
export interface InferenceCost {
  flops: string
  /** Gas the precompile charges for this run. */
  inferenceGas: string
  /** The model's price in wei (paid to its owner through ModelRegistry.infer; 0 = free). */
  priceWei: string
}

/** The call a run of `model` on `inputs` makes. */
interface InferenceCall {
  to: string
  data: string
  value: bigint
  iface: Interface
}

let ifaces: { registry: Interface; precompile: Interface } | undefined
const abis = () => {
  ifaces ??= {
    registry: new Interface(contractAbi('ModelRegistry') as InterfaceAbi),
    precompile: new Interface(contractAbi('ILatticeInference') as InterfaceAbi),
  }
  return ifaces
}

/** Parse a tool's `inputs` (`{"x": [[...]]}` or `{"x": {dtype, shape, data}}`) against the model's io. */
export function parseInputs(model: IndexedModel, inputs: Record<string, unknown>): Tensor[] {
  try {
    return parseTensorJson({ inputs }, { model: parseIoSummary(model.io).inputs })
  } catch (err) {
    const why = err instanceof LatticeError ? err.shortMessage : String(err)
    throw new McpInputError(`inputs for model ${model.modelId} (${model.io}): ${why}`, { cause: err })
  }
}

function encode(model: IndexedModel, tensors: readonly Tensor[]): InferenceCall {
  const price = BigInt(model.price)
  const iface = price > 0n ? abis().registry : abis().precompile
  const data = iface.encodeFunctionData('infer', [
    model.modelId,
    tensors.map((t) => [t.name, t.dtype, t.shape.map(BigInt), t.data]),
  ])
  return { to: price > 0n ? REGISTRY_ADDRESS : INFERENCE_ADDRESS, data, value: price, iface }
}

function decode(call: InferenceCall, ret: string): Tensor[] {
  try {
    return (call.iface.decodeFunctionResult('infer', ret)[0] as any[]).map((t) => ({
      name: t[0] as string,
      dtype: Number(t[1]),
      shape: (t[2] as bigint[]).map(Number),
      data: new Uint8Array(Buffer.from((t[3] as string).slice(2), 'hex')),
    }))
  } catch (err) {
    throw new McpNodeError(`the node returned ${ret.slice(0, 66)}..., which is not infer()'s output tensors`, {
      cause: err,
    })
  }
}

/** Outputs in both forms; the JSON form is the one `lattice model inference` prints. */
export function tensorsOut(tensors: readonly Tensor[]): TensorsOut {
  const outputs = (JSON.parse(formatTensorJson(tensors)) as { outputs: TensorsOut['outputs'] }).outputs
  const raw = tensors.map((t) => ({
    name: t.name,
    dtype: t.dtype,
    dtypeName: dtypeName(t.dtype),
    shape: t.shape,
    data: `0x${Buffer.from(t.data).toString('hex')}`,
  }))
  return { outputs, raw }
}

/** The node's estimate of one run (it also checks the inputs against the model, with a clear reason). */
export async function estimateCost(
  ctx: McpContext,
  model: IndexedModel,
  inputs: Record<string, unknown>,
  from?: string,
): Promise<InferenceCost> {
  // a priced model runs through ModelRegistry.infer, so it is estimated as the registry forwards it; the
  // precompile refuses a direct caller of a priced model
  const caller = from && BigInt(model.price) === 0n ? { from } : {}
  const r = await ctx.call<{ flops: string; gas: string }>('lattice_estimateInference', [
    { modelId: model.modelId, inputs, ...caller },
  ])
  return { flops: BigInt(r.flops).toString(), inferenceGas: BigInt(r.gas).toString(), priceWei: model.price }
}

/** The eth_call / eth_estimateGas request of one run (`from` optional; value only for a priced model). */
export function callRequest(
  model: IndexedModel,
  inputs: Record<string, unknown>,
  from?: string,
): Record<string, string> {
  return requestOf(encode(model, parseInputs(model, inputs)), from)
}

function requestOf(call: InferenceCall, from?: string): Record<string, string> {
  const req: Record<string, string> = { to: call.to, data: call.data }
  if (from) req.from = from
  if (call.value > 0n) req.value = `0x${call.value.toString(16)}`
  return req
}

/** Refuse models that cannot run now, naming what to do instead. */
function runnable(model: IndexedModel): void {
  if (model.status !== 'active')
    throw new McpInputError(
      `Model ${model.modelId} is ${model.status}; run its newer version${model.next ? ` ${model.next}` : ''}.`,
    )
}

/** Run a model with eth_call at the head: free, and the bits a transaction would produce now. */
export async function callInference(
  ctx: McpContext,
  model: IndexedModel,
  inputs: Record<string, unknown>,
): Promise<TensorsOut & { cost: InferenceCost; blockNumber: number }> {
  runnable(model)
  const tensors = parseInputs(model, inputs)
  const from = ctx.signer ? await ctx.signer.getAddress() : undefined
  if (BigInt(model.price) > 0n && !from)
    throw new McpInputError(
      `Model ${model.modelId} costs ${model.price} wei per inference, paid by the caller even in an eth_call; start the server with a signer to call it.`,
    )
  const cost = await estimateCost(ctx, model, inputs, from)
  const call = encode(model, tensors)
  const req = requestOf(call, from)
  const blockNumber = Number(BigInt(await ctx.call<string>('eth_blockNumber')))
  const ret = await ctx.call<string>('eth_call', [req, `0x${blockNumber.toString(16)}`])
  return { ...tensorsOut(decode(call, ret)), cost, blockNumber }
}

/** What a sent inference cost and returned. */
export interface SentInference extends TensorsOut {
  txHash: string
  blockNumber: number
  status: 'success' | 'reverted'
  /** Stated before sending: the node's estimates and the most the transaction could cost. */
  quote: InferenceCost & { txGas: string; gasLimit: string; gasPrice: string; maxCostWei: string }
  /** What it did cost: gas used at the effective price, plus the model's price. */
  paid: { gasUsed: string; effectiveGasPrice: string; gasFeeWei: string; priceWei: string; totalWei: string }
  receipt: Record<string, unknown>
}

/** Send an inference transaction from `signer` (only after its cost is known and within `maxCostWei`). */
export async function sendInference(
  ctx: McpContext,
  signer: Wallet,
  model: IndexedModel,
  inputs: Record<string, unknown>,
  maxCostWei?: bigint,
): Promise<SentInference> {
  runnable(model)
  const tensors = parseInputs(model, inputs)
  const from = await signer.getAddress()
  const cost = await estimateCost(ctx, model, inputs, from)
  const call = encode(model, tensors)
  const txGas = BigInt(await ctx.call<string>('eth_estimateGas', [requestOf(call, from)]))
  // a margin over the estimate: gas is static from shapes, the margin covers state the call reads changing
  const gasLimit = txGas + txGas / 5n
  const gasPrice = BigInt(await ctx.call<string>('eth_gasPrice'))
  const maxCost = gasLimit * gasPrice + call.value
  const quote = {
    ...cost,
    txGas: txGas.toString(),
    gasLimit: gasLimit.toString(),
    gasPrice: gasPrice.toString(),
    maxCostWei: maxCost.toString(),
  }
  if (maxCostWei !== undefined && maxCost > maxCostWei)
    throw new McpCostLimitError(
      `The inference could cost up to ${maxCost} wei (gas limit ${gasLimit} at ${gasPrice} wei, price ${call.value} wei), more than maxCostWei ${maxCostWei}; nothing was sent.`,
    )
  const receipt = await sendAndWait(
    ctx.conn,
    { to: call.to, data: call.data, value: call.value, gasLimit },
    `Inference on ${model.modelId}`,
  )
  const outputs = await outputsOfTx(ctx, call, receipt.hash, receipt.blockNumber, from)
  const raw = await ctx.call<Record<string, unknown>>('eth_getTransactionReceipt', [receipt.hash])
  const effective = BigInt((raw.effectiveGasPrice as string | undefined) ?? receipt.gasPrice)
  const fee = receipt.gasUsed * effective
  return {
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
    status: receipt.status === 1 ? 'success' : 'reverted',
    quote,
    paid: {
      gasUsed: receipt.gasUsed.toString(),
      effectiveGasPrice: effective.toString(),
      gasFeeWei: fee.toString(),
      priceWei: call.value.toString(),
      totalWei: (fee + call.value).toString(),
    },
    ...tensorsOut(outputs),
    receipt: raw,
  }
}

/** The outputs a mined inference returned: from the call trace, else a re-run on the state it started from. */
async function outputsOfTx(
  ctx: McpContext,
  call: InferenceCall,
  txHash: string,
  blockNumber: number,
  from: string,
): Promise<Tensor[]> {
  try {
    const trace = await ctx.call<{ output?: string }>('debug_traceTransaction', [
      txHash,
      { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } },
    ])
    return decode(call, trace.output ?? '0x')
  } catch {
    const req: Record<string, string> = { to: call.to, data: call.data, from }
    if (call.value > 0n) req.value = `0x${call.value.toString(16)}`
    return decode(call, await ctx.call<string>('eth_call', [req, `0x${(blockNumber - 1).toString(16)}`]))
  }
}
