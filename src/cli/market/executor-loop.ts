// The executor's loop: poll InferenceRequested logs from the registration block, claim each request it can serve
// (its price covered, a tolerance set, not claimed yet), and finalise its claims once their window has passed.
// Restart-safe without a state file: the chain is the record. Every start rescans from the registration block,
// rebuilds its open claims from its ClaimPosted logs, and skips any request whose on-chain status is no longer
// `requested`, so a request is never claimed twice and none logged while it was down is missed.
import { errorMessage } from '../../errors.ts'
import type { Tensor } from '../../inference/tensor.ts'
import { TransactionFailedError } from '../errors.ts'
import { abiTensors, addressTopic, type Market, type MarketEvent, tensorsHash, tensorsOfAbi } from './client.ts'
import type { ProviderRunner, RegistryModel } from './runner.ts'

/** One line of the executor's log (one JSON document per line with --json). */
export type ExecutorEvent = { event: string } & Record<string, unknown>

/** Options of {@link runExecutorLoop}. */
export interface ExecutorLoopOpts {
  market: Market
  runner: ProviderRunner
  /** The executor's address (the signer's). */
  address: string
  /** Its price: requests with a smaller maxFee are left to others. */
  price: bigint
  /** First block to scan (the executor's registration). */
  fromBlock: number
  /** Milliseconds between polls. */
  pollMs: number
  /** Withdraw the credit after each finalisation. */
  withdraw: boolean
  log(e: ExecutorEvent): void
  signal: AbortSignal
}

interface OpenClaim {
  outputs: Tensor[]
  finalAt: number
}

/** Serve requests until `signal` aborts. */
export async function runExecutorLoop(opts: ExecutorLoopOpts): Promise<void> {
  const { market, log, signal } = opts
  const me = opts.address.toLowerCase()
  const open = new Map<bigint, OpenClaim>()
  // requests seen and not settled: a failed attempt (a busy node, a lost race) is tried again, a few times
  const pending = new Map<bigint, { request: MarketEvent; tries: number }>()
  let cursor = opts.fromBlock
  while (!signal.aborted) {
    try {
      const head = Number(BigInt(await market.conn.call<string>('eth_blockNumber')))
      if (head >= cursor) {
        // my claims first: after a restart they are the open claims to finalise
        for (const c of await market.events('ClaimPosted', cursor, head, [null, addressTopic(me)]))
          open.set(c.args.requestId as bigint, {
            outputs: tensorsOfAbi(c.args.outputs),
            finalAt: Number(c.args.finalAtBlock),
          })
        for (const r of await market.events('InferenceRequested', cursor, head))
          pending.set(r.args.requestId as bigint, { request: r, tries: 0 })
        cursor = head + 1
      }
      for (const [id, p] of pending) {
        if (signal.aborted) break
        if ((await serve(opts, p.request, open)) || ++p.tries >= MAX_TRIES) pending.delete(id)
      }
      await finalizeDue(opts, open, head)
    } catch (err) {
      if (signal.aborted) break
      // a node restart or a transient RPC failure: log it and poll again, never exit on it
      log({ event: 'error', message: errorMessage(err) })
    }
    await sleep(opts.pollMs, signal)
  }
}

/** Attempts at one request before the executor gives up on it (each logs its error). */
const MAX_TRIES = 5

/** Claim one request if it is this executor's to serve; false when the attempt failed and may be tried again. */
async function serve(opts: ExecutorLoopOpts, r: MarketEvent, open: Map<bigint, OpenClaim>): Promise<boolean> {
  const { market, runner, log } = opts
  const id = r.args.requestId as bigint
  const modelId = (r.args.modelId as string).toLowerCase()
  const maxFee = r.args.maxFee as bigint
  const skip = (reason: string) => {
    log({ event: 'skipped', requestId: id.toString(), modelId, reason })
    return true
  }
  if (maxFee < opts.price) return skip(`maxFee ${maxFee} is below the price ${opts.price}`)
  try {
    const req = await market.request(id)
    if (req.status !== 'requested') return skip(`already ${req.status}`)
    if (!(await market.tolerance(modelId)).set) return skip('the model has no tolerance')
    const model = await market.conn.call<RegistryModel | null>('lattice_getModel', [modelId])
    if (!model) return skip('the model is not in the registry')
    const inputs = tensorsOfAbi(r.args.inputs)
    const t0 = performance.now()
    const outputs = await runner.run(model, inputs, { signal: opts.signal })
    const ms = Math.round(performance.now() - t0)
    const outputHash = tensorsHash(outputs)
    const { receipt, events } = await market.send('postClaim', [id, abiTensors(outputs), outputHash], {
      what: `Claim of request ${id}`,
    })
    const posted = events.find((e) => e.name === 'ClaimPosted')
    const finalAt = posted ? Number(posted.args.finalAtBlock) : receipt.blockNumber
    open.set(id, { outputs, finalAt })
    log({
      event: 'claimed',
      requestId: id.toString(),
      modelId,
      provider: runner.provider,
      ...(runner.lie ? { testLie: runner.lie } : {}),
      outputHash,
      finalAtBlock: finalAt,
      inferenceMs: ms,
      tx: receipt.hash,
      block: receipt.blockNumber,
      gasUsed: receipt.gasUsed.toString(),
    })
    return true
  } catch (err) {
    // lost the race to another executor (the retry sees it claimed), or the node was busy: the others go on
    log({ event: 'error', requestId: id.toString(), modelId, message: errorMessage(err) })
    return false
  }
}

async function finalizeDue(opts: ExecutorLoopOpts, open: Map<bigint, OpenClaim>, head: number): Promise<void> {
  const { market, log } = opts
  for (const [id, claim] of open) {
    if (opts.signal.aborted) return
    const req = await market.request(id)
    if (req.status === 'overturned') {
      open.delete(id)
      log({ event: 'slashed', requestId: id.toString(), modelId: req.modelId })
      continue
    }
    if (req.status !== 'claimed' || req.executor.toLowerCase() !== opts.address.toLowerCase()) {
      open.delete(id)
      continue
    }
    // the next block is the first one a finalize can land in
    if (head + 1 < claim.finalAt && !req.verified) continue
    try {
      const { receipt, events } = await market.send('finalize', [id, abiTensors(claim.outputs)], {
        what: `Finalising request ${id}`,
      })
      open.delete(id)
      const fin = events.find((e) => e.name === 'ClaimFinalized')
      log({
        event: 'finalized',
        requestId: id.toString(),
        fee: fin ? (fin.args.fee as bigint).toString() : undefined,
        callbackOk: fin ? Boolean(fin.args.callbackOk) : undefined,
        tx: receipt.hash,
        block: receipt.blockNumber,
        gasUsed: receipt.gasUsed.toString(),
      })
      if (opts.withdraw) await withdraw(opts)
    } catch (err) {
      // not final yet by the chain's clock (eth_call said so): try again on the next poll
      if (err instanceof TransactionFailedError && /would revert/.test(err.shortMessage)) continue
      throw err
    }
  }
}

async function withdraw(opts: ExecutorLoopOpts): Promise<void> {
  const credit = await opts.market.credit(opts.address)
  if (credit === 0n) return
  const { receipt } = await opts.market.send('withdraw', [], { what: 'Withdrawing the credit' })
  opts.log({
    event: 'withdrawn',
    amount: credit.toString(),
    tx: receipt.hash,
    gasUsed: receipt.gasUsed.toString(),
  })
}

/** Resolve after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
