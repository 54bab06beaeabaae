// `lattice model inference --async`: request an inference through the InferenceMarket from the signer's account
// (no callback), wait until the claim is final or overturned, and return the final outputs: the executor's from
// its ClaimPosted log, or after an overturn the consensus runtime's (an eth_call of the precompile), each checked
// against the outputHash the market keeps.
import { ZeroAddress } from 'ethers'
import type { Tensor } from '../../inference/tensor.ts'
import { CliFlagError } from '../errors.ts'
import type { NodeConnection } from '../model-client.ts'
import { weiFlag } from '../model-client.ts'
import { claimOutputs, requestInputs } from './challenger-loop.ts'
import { abiTensors, consensusOutputs, openMarket, tensorsHash } from './client.ts'
import { MarketStateError } from './errors.ts'
import { sleep } from './executor-loop.ts'

/** What {@link requestAndWait} returns. */
export interface AsyncInferenceResult {
  requestId: string
  status: 'finalized' | 'overturned'
  executor: string
  requestTx: string
  requestGasUsed: string
  outputs: Tensor[]
}

/** Request, then poll the market until the request is final (or `timeoutMs` passes). */
export async function requestAndWait(
  conn: NodeConnection,
  modelId: string,
  inputs: Tensor[],
  opts: { maxFee?: unknown; timeoutMs?: number; pollMs?: number; onRequested?: (id: bigint) => void },
): Promise<AsyncInferenceResult> {
  const market = await openMarket(conn)
  const maxFee = weiFlag(opts.maxFee, '--max-fee')
  if (!(await market.tolerance(modelId)).set)
    throw new CliFlagError(
      `Model ${modelId} has no tolerance in the InferenceMarket, so executors cannot serve it. Its owner sets one with \`lattice model set-tolerance ${modelId} --max-ulp N\`; or run it synchronously without --async.`,
    )
  const { receipt, events } = await market.send(
    'requestInference',
    [modelId, abiTensors(inputs), ZeroAddress, maxFee],
    {
      value: maxFee,
      what: `Requesting an inference of ${modelId}`,
    },
  )
  const requested = events.find((e) => e.name === 'InferenceRequested')
  if (!requested) throw new MarketStateError(`The request (tx ${receipt.hash}) logged no InferenceRequested.`)
  const id = requested.args.requestId as bigint
  opts.onRequested?.(id)
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000)
  const never = new AbortController().signal
  for (;;) {
    const req = await market.request(id)
    if (req.status === 'finalized' || req.status === 'overturned') {
      const outputs =
        req.status === 'finalized'
          ? await claimOutputs(market, id, req.claimedAt)
          : await consensusOutputs(conn, modelId, await requestInputs(market, id, req.requestedAt))
      if (tensorsHash(outputs) !== req.outputHash.toLowerCase())
        throw new MarketStateError(
          `The ${req.status} outputs of request ${id} do not hash to the market's outputHash ${req.outputHash}.`,
        )
      return {
        requestId: id.toString(),
        status: req.status,
        executor: req.executor,
        requestTx: receipt.hash,
        requestGasUsed: receipt.gasUsed.toString(),
        outputs,
      }
    }
    if (req.status === 'cancelled')
      throw new MarketStateError(`Request ${id} was cancelled by its requester before anyone claimed it.`)
    if (Date.now() > deadline)
      throw new MarketStateError(
        `Request ${id} is still ${req.status} after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s. Is an executor running (lattice executor), and are blocks being mined? Unclaimed a window after the request, its fee comes back with InferenceMarket.cancel(${id}).`,
      )
    await sleep(opts.pollMs ?? 250, never)
  }
}
