import type { CliCommand } from '../command.ts'
import { MARKET_OPTIONS } from '../market/flags.ts'

/** `lattice challenger`: check every claim against the consensus runtime and challenge the wrong ones. */
export const challengerCommand: CliCommand = {
  name: 'challenger',
  description:
    "Check every InferenceMarket claim inside its window against the consensus runtime (through the node) and challenge those outside the model's tolerance; runs until SIGTERM",
  options: [
    {
      flags: '--from-block <n>',
      description: 'first block to scan for claims (default: the head minus the challenge window)',
    },
    { flags: '--poll-ms <n>', description: 'milliseconds between polls of the node (default 500)' },
    ...MARKET_OPTIONS,
  ],
  async run(_args, rawOpts, io) {
    const { marketOpts, pollFlag, blockFlag, eventPrinter } = await import('../market/flags.ts')
    const opts = marketOpts(rawOpts)
    const pollMs = pollFlag(opts.pollMs)
    const from = blockFlag(opts.fromBlock)
    const client = await import('../model-client.ts')
    const conn = await client.connect(opts, io, true)
    const log = eventPrinter(io, Boolean(opts.json))
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    try {
      const { openMarket } = await import('../market/client.ts')
      const market = await openMarket(conn)
      const me = await conn.signer!.getAddress()
      const head = Number(BigInt(await conn.call<string>('eth_blockNumber')))
      const window = await market.challengeWindow()
      const fromBlock = from ?? Math.max(0, head - window)
      const bond = await market.challengeBond()
      log({ event: 'watching', challenger: me, fromBlock, challengeWindow: window, bond: bond.toString() })
      const { runChallengerLoop } = await import('../market/challenger-loop.ts')
      await runChallengerLoop({ market, fromBlock, pollMs, log, signal: stop.signal })
      log({ event: 'stopped', challenger: me })
      return 0
    } finally {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      conn.close()
    }
  },
}
