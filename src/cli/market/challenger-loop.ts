// The node-run challenger: for each ClaimPosted still inside its window, re-run the request on the consensus
// runtime and compare with the model's tolerance, and challenge when the claim is outside it. The check is an
// eth_call of `challenge` from the challenger with the bond: the node runs the precompile's consensus inference
// and the market's own tolerance comparison, so the decision is the one the chain would reach, and a claim is
// challenged only when the transaction will overturn it (an honest claim never costs the challenger its bond).
import { errorMessage } from '../../errors.ts'
import type { Tensor } from '../../inference/tensor.ts'
import { abiTensors, type Market, type MarketEvent, tensorsOfAbi, uintTopic } from './client.ts'
import { type ExecutorEvent, sleep } from './executor-loop.ts'

/** Options of {@link runChallengerLoop}. */
export interface ChallengerLoopOpts {
  market: Market
  /** First block to scan for claims. */
  fromBlock: number
  pollMs: number
  log(e: ExecutorEvent): void
  signal: AbortSignal
}

/** Watch claims until `signal` aborts. */
export async function runChallengerLoop(opts: ChallengerLoopOpts): Promise<void> {
  const { market, log, signal } = opts
  const handled = new Set<bigint>()
  let cursor = opts.fromBlock
  while (!signal.aborted) {
    try {
      const head = Number(BigInt(await market.conn.call<string>('eth_blockNumber')))
      if (head >= cursor) {
        for (const c of await market.events('ClaimPosted', cursor, head)) {
          if (signal.aborted) break
          const id = c.args.requestId as bigint
          if (handled.has(id)) continue
          handled.add(id)
          await check(opts, c, head)
        }
        cursor = head + 1
      }
    } catch (err) {
      if (signal.aborted) break
      log({ event: 'error', message: errorMessage(err) })
    }
    await sleep(opts.pollMs, signal)
  }
}

/** The inputs of request `id`, from its InferenceRequested log (the chain keeps only their hash in storage). */
export async function requestInputs(market: Market, id: bigint, requestedAt: number): Promise<Tensor[]> {
  const [r] = await market.events('InferenceRequested', requestedAt, requestedAt, [uintTopic(id)])
  if (!r) {
    const { MarketStateError } = await import('./errors.ts')
    throw new MarketStateError(`No InferenceRequested log for request ${id} in block ${requestedAt}.`)
  }
  return tensorsOfAbi(r.args.inputs)
}

/** The outputs claimed for request `id`, from its ClaimPosted log. */
export async function claimOutputs(market: Market, id: bigint, claimedAt: number): Promise<Tensor[]> {
  const [c] = await market.events('ClaimPosted', claimedAt, claimedAt, [uintTopic(id)])
  if (!c) {
    const { MarketStateError } = await import('./errors.ts')
    throw new MarketStateError(`No ClaimPosted log for request ${id} in block ${claimedAt}.`)
  }
  return tensorsOfAbi(c.args.outputs)
}

async function check(opts: ChallengerLoopOpts, c: MarketEvent, head: number): Promise<void> {
  const { market, log } = opts
  const id = c.args.requestId as bigint
  const executor = c.args.executor as string
  try {
    const req = await market.request(id)
    if (req.status !== 'claimed' || req.verified) return
    if (head + 1 >= Number(c.args.finalAtBlock)) {
      log({ event: 'window-passed', requestId: id.toString(), executor })
      return
    }
    const inputs = await requestInputs(market, id, req.requestedAt)
    const outputs = tensorsOfAbi(c.args.outputs)
    const bond = await market.challengeBond()
    const args = [id, abiTensors(inputs), abiTensors(outputs)]
    const t0 = performance.now()
    const [overturned] = await market.simulate('challenge', args, { value: bond, what: `Checking claim ${id}` })
    const checkMs = Math.round(performance.now() - t0)
    if (!overturned) {
      log({ event: 'checked', requestId: id.toString(), executor, withinTolerance: true, checkMs })
      return
    }
    const { receipt, events } = await market.send('challenge', args, { value: bond, what: `Challenge of ${id}` })
    const ch = events.find((e) => e.name === 'ClaimChallenged')
    log({
      event: 'challenged',
      requestId: id.toString(),
      executor,
      overturned: ch ? Boolean(ch.args.overturned) : undefined,
      slashed: ch ? (ch.args.slashed as bigint).toString() : undefined,
      consensusOutputHash: ch?.args.consensusOutputHash,
      bond: bond.toString(),
      checkMs,
      tx: receipt.hash,
      block: receipt.blockNumber,
      gasUsed: receipt.gasUsed.toString(),
    })
  } catch (err) {
    log({ event: 'error', requestId: id.toString(), message: errorMessage(err) })
  }
}
