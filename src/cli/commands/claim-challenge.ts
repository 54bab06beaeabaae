import type { CliCommand } from '../command.ts'
import { MARKET_OPTIONS } from '../market/flags.ts'

/** `lattice claim challenge REQUEST_ID`: challenge one claim by hand, with the market's bond. */
export const claimChallengeCommand: CliCommand = {
  name: 'claim challenge',
  description:
    "Challenge one InferenceMarket claim: the chain re-runs it on the consensus runtime; outside the model's tolerance the executor's stake is yours, within it your bond goes to the executor",
  arguments: ['<requestId>'],
  options: MARKET_OPTIONS,
  async run([rawId], rawOpts, io) {
    const { marketOpts } = await import('../market/flags.ts')
    const opts = marketOpts(rawOpts)
    const { CliFlagError } = await import('../errors.ts')
    if (!/^\d{1,78}$/.test(rawId ?? ''))
      throw new CliFlagError(`REQUEST_ID "${rawId}" is not a request id. Pass the decimal id, e.g. 1.`)
    const id = BigInt(rawId)
    const client = await import('../model-client.ts')
    const conn = await client.connect(opts, io, true)
    try {
      const { openMarket, abiTensors } = await import('../market/client.ts')
      const { requestInputs, claimOutputs } = await import('../market/challenger-loop.ts')
      const { MarketStateError } = await import('../market/errors.ts')
      const market = await openMarket(conn)
      const req = await market.request(id)
      if (req.status !== 'claimed')
        throw new MarketStateError(
          `Request ${id} is ${req.status === 'none' ? 'unknown' : req.status}; only a claimed request inside its window can be challenged.`,
        )
      const inputs = await requestInputs(market, id, req.requestedAt)
      const outputs = await claimOutputs(market, id, req.claimedAt)
      const bond = await market.challengeBond()
      // sent even when an eth_call would say the claim holds: that is the user's call, and the bond is the price
      const data = (await import('../market/client.ts')).marketInterface.encodeFunctionData('challenge', [
        id,
        abiTensors(inputs),
        abiTensors(outputs),
      ])
      const { MARKET_ADDRESS, receiptEvents } = await import('../market/client.ts')
      const receipt = await client.sendAndWait(
        conn,
        { to: MARKET_ADDRESS, data, value: bond },
        `Challenge of request ${id}`,
      )
      const ev = receiptEvents(receipt).find((e) => e.name === 'ClaimChallenged')
      const overturned = Boolean(ev?.args.overturned)
      const json = {
        requestId: id.toString(),
        executor: req.executor,
        overturned,
        bond: bond.toString(),
        bondTo: overturned ? 'challenger' : 'executor',
        slashed: ev ? (ev.args.slashed as bigint).toString() : '0',
        consensusOutputHash: ev?.args.consensusOutputHash ?? null,
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed.toString(),
      }
      const human = [
        overturned
          ? `Overturned: the claim of ${req.executor} is outside the model's tolerance.`
          : `Not overturned: the claim of ${req.executor} is within the model's tolerance.`,
        overturned
          ? `Bond:      ${bond} wei back to you, with the executor's stake of ${json.slashed} wei (withdraw them from the market)`
          : `Bond:      ${bond} wei forfeited to the executor`,
        `Tx:        ${receipt.hash}`,
        `Block:     ${receipt.blockNumber}`,
        `Gas used:  ${receipt.gasUsed}`,
      ].join('\n')
      client.output(io, opts, json, human)
      return 0
    } finally {
      conn.close()
    }
  },
}
