import type { CliCommand } from '../command.ts'
import { MARKET_OPTIONS } from '../market/flags.ts'

/** `lattice executor`: serve InferenceMarket requests on an execution provider, bonded by a stake. */
export const executorCommand: CliCommand = {
  name: 'executor',
  description:
    'Serve accelerated inference requests of the InferenceMarket on an execution provider (cpu, cuda, coreml, webgpu), bonded by a stake; runs until SIGTERM',
  options: [
    { flags: '--provider <name>', description: 'execution provider: cpu, cuda, coreml or webgpu (probed for real)' },
    {
      flags: '--stake <wei>',
      description: 'wei to bond now (added to any stake already bonded; the total must reach minStake)',
    },
    { flags: '--price <wei>', description: 'wei asked per request (default 0)' },
    {
      flags: '--datadir <dir>',
      description: "the executor's IPFS store of model packages (default: $LATTICE_DATADIR/../executor)",
    },
    { flags: '--ipfs-api <url>', description: 'read model packages from this IPFS (Kubo) daemon instead' },
    { flags: '--poll-ms <n>', description: 'milliseconds between polls of the node (default 500)' },
    { flags: '--withdraw', description: 'withdraw the credit (fees) after each finalisation' },
    ...MARKET_OPTIONS,
  ],
  async run(_args, rawOpts, io) {
    const { marketOpts, pollFlag, eventPrinter } = await import('../market/flags.ts')
    const { CliFlagError } = await import('../errors.ts')
    const opts = marketOpts(rawOpts)
    if (!opts.provider) throw new CliFlagError('No provider given. Pass --provider cpu (or cuda, coreml, webgpu).')
    const pollMs = pollFlag(opts.pollMs)
    const client = await import('../model-client.ts')
    const stake = client.weiFlag(opts.stake, '--stake')
    const price = client.weiFlag(opts.price, '--price')
    // the provider first: a machine without it is refused before anything is sent
    const { checkProvider, createProviderRunner } = await import('../market/runner.ts')
    await checkProvider(String(opts.provider))
    const log = eventPrinter(io, Boolean(opts.json))
    const conn = await client.connect(opts, io, true)
    const { openMarket, addressTopic } = await import('../market/client.ts')
    const { join, dirname } = await import('node:path')
    const { defaultDatadir } = await import('../../storage/paths.ts')
    const datadir = (opts.datadir as string | undefined) ?? join(dirname(defaultDatadir()), 'executor')
    const { createModelStore } = await import('../../storage/create.ts')
    let store: Awaited<ReturnType<typeof createModelStore>> | undefined
    let runner: Awaited<ReturnType<typeof createProviderRunner>> | undefined
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    try {
      const market = await openMarket(conn)
      const me = await conn.signer!.getAddress()
      store = await createModelStore({ datadir, ipfsApi: opts.ipfsApi as string | undefined })
      runner = await createProviderRunner({ provider: String(opts.provider), store, cacheDir: join(datadir, 'models') })
      const current = await market.executor(me)
      const minStake = await market.minStake()
      if (!current.active && current.stake + stake < minStake)
        throw new CliFlagError(
          `--stake ${stake} leaves ${me} with ${current.stake + stake} wei bonded; the market's minimum stake is ${minStake} wei. Pass --stake ${minStake - current.stake} or more.`,
        )
      if (!current.active || stake > 0n || current.price !== price || current.provider !== runner.provider) {
        const { receipt } = await market.send('register', [runner.provider, price], {
          value: stake,
          what: `Registering ${me} as an executor`,
        })
        log({
          event: 'registered',
          executor: me,
          provider: runner.provider,
          stake: (current.stake + stake).toString(),
          price: price.toString(),
          tx: receipt.hash,
          block: receipt.blockNumber,
          gasUsed: receipt.gasUsed.toString(),
        })
      }
      // from the first registration: a restart rescans everything this executor could have claimed
      const head = Number(BigInt(await conn.call<string>('eth_blockNumber')))
      const [first] = await market.events('ExecutorRegistered', 0, head, [addressTopic(me)])
      const fromBlock = first?.blockNumber ?? head
      log({
        event: 'watching',
        executor: me,
        provider: runner.provider,
        price: price.toString(),
        fromBlock,
        ...(runner.lie ? { testLie: runner.lie } : {}),
      })
      const { runExecutorLoop } = await import('../market/executor-loop.ts')
      await runExecutorLoop({
        market,
        runner,
        address: me,
        price,
        fromBlock,
        pollMs,
        withdraw: Boolean(opts.withdraw),
        log,
        signal: stop.signal,
      })
      log({ event: 'stopped', executor: me })
      return 0
    } finally {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      await runner?.close()
      await store?.close()
      conn.close()
    }
  },
}
