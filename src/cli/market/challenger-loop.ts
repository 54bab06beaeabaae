// The node-run challenger: for each ClaimPosted still inside its window, re-run the request on the consensus
// runtime (an eth_call of the precompile through the node) and compare with the model's tolerance (the same
// comparator the precompile's withinTolerance runs); when the claim is outside it, confirm with an eth_call of
// `challenge` (the chain's own verdict) and then challenge, so an honest claim never costs the bond.
import { errorMessage } from '../../errors.ts'
import type { Tensor } from '../../inference/tensor.ts'
import { withinTolerance } from '../../inference/tolerance.ts'
import { abiTensors, consensusOutputs, type Market, type MarketEvent, tensorsOfAbi, uintTopic } from './client.ts'
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
  // claims seen and not settled yet: a check that failed (a node busy past its eth_call limit) is tried again
  const pending = new Map<bigint, { claim: MarketEvent; tries: number }>()
  let cursor = opts.fromBlock
  while (!signal.aborted) {
    try {
      const head = Number(BigInt(await market.conn.call<string>('eth_blockNumber')))
      if (head >= cursor) {
        for (const c of await market.events('ClaimPosted', cursor, head))
          pending.set(c.args.requestId as bigint, { claim: c, tries: 0 })
        cursor = head + 1
      }
      for (const [id, p] of pending) {
        if (signal.aborted) break
        if ((await check(opts, p.claim, head)) || ++p.tries >= MAX_TRIES) pending.delete(id)
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

/** Checks of one claim before the challenger gives up on it (each logs its error). */
const MAX_TRIES = 5

/** Check one claim and challenge it when wrong; false when the check failed and may be tried again. */
async function check(opts: ChallengerLoopOpts, c: MarketEvent, head: number): Promise<boolean> {
  const { market, log } = opts
  const id = c.args.requestId as bigint
  const executor = c.args.executor as string
  try {
    const req = await market.request(id)
    if (req.status !== 'claimed' || req.verified) return true
    if (head + 1 >= Number(c.args.finalAtBlock)) {
      log({ event: 'window-passed', requestId: id.toString(), executor })
      return true
    }
    const inputs = await requestInputs(market, id, req.requestedAt)
    const outputs = tensorsOfAbi(c.args.outputs)
    // the consensus outputs through the node, compared with the model's tolerance as the precompile compares them
    const t0 = performance.now()
    const tol = await market.tolerance(req.modelId)
    const expected = await consensusOutputs(market.conn, req.modelId, inputs)
    const verdict = withinTolerance(outputs, expected, tol)
    const checkMs = Math.round(performance.now() - t0)
    const facts = { requestId: id.toString(), executor, worstUlp: verdict.worstUlp, checkMs }
    if (verdict.ok) {
      log({ event: 'checked', ...facts, withinTolerance: true })
      return true
    }
    // confirmed by the chain's own verdict (an eth_call of the challenge) before the bond is put up
    const bond = await market.challengeBond()
    const args = [id, abiTensors(inputs), abiTensors(outputs)]
    const [overturned] = await market.simulate('challenge', args, { value: bond, what: `Challenge of ${id}` })
    if (!overturned) {
      log({ event: 'disagreed', ...facts, reason: 'the market found the claim within tolerance; not challenged' })
      return true
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
      worstUlp: verdict.worstUlp,
      checkMs,
      tx: receipt.hash,
      block: receipt.blockNumber,
      gasUsed: receipt.gasUsed.toString(),
    })
    return true
  } catch (err) {
    log({ event: 'error', requestId: id.toString(), message: errorMessage(err) })
    return false
  }
}
