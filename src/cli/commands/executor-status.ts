import type { CliCommand } from '../command.ts'
import { MARKET_OPTIONS } from '../market/flags.ts'

/** `lattice executor status [ADDRESS]`: an executor's bond and record in the InferenceMarket. */
export const executorStatusCommand: CliCommand = {
  name: 'executor status',
  description: "Show an executor's stake, price, provider, claims, open claims, slashed claims and credit",
  arguments: ['[address]'],
  options: MARKET_OPTIONS,
  async run([address], rawOpts, io) {
    const { marketOpts } = await import('../market/flags.ts')
    const opts = marketOpts(rawOpts)
    const client = await import('../model-client.ts')
    const { CliFlagError } = await import('../errors.ts')
    const conn = await client.connect(opts, io, false)
    try {
      let who: string
      if (address !== undefined) [who] = await client.addressesFlag(address, 'ADDRESS')
      else if (conn.signer) who = await conn.signer.getAddress()
      else
        throw new CliFlagError(
          'No executor given. Pass its ADDRESS, or --key with its private key (or set LATTICE_PRIVATE_KEY).',
        )
      const { openMarket } = await import('../market/client.ts')
      const market = await openMarket(conn)
      const e = await market.executor(who)
      const credit = await market.credit(who)
      const json = {
        executor: who,
        active: e.active,
        provider: e.provider,
        stake: e.stake.toString(),
        price: e.price.toString(),
        claims: e.claims,
        openClaims: e.openClaims,
        slashed: e.slashed,
        credit: credit.toString(),
      }
      const human = [
        `Executor:     ${who}${e.active ? '' : ' (not registered)'}`,
        `Provider:     ${e.provider || '-'}`,
        `Stake:        ${e.stake} wei`,
        `Price:        ${e.price} wei per request`,
        `Claims:       ${e.claims} (${e.openClaims} open, ${e.slashed} slashed)`,
        `Credit:       ${credit} wei (lattice executor --withdraw, or InferenceMarket.withdraw)`,
      ].join('\n')
      client.output(io, opts, json, human)
      return 0
    } finally {
      conn.close()
    }
  },
}
