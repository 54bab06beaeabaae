import type { CliCommand } from '../command.ts'
import { MARKET_OPTIONS } from '../market/flags.ts'

/** `lattice model set-tolerance MODEL`: how far an accelerated claim may be from the consensus outputs. */
export const modelSetToleranceCommand: CliCommand = {
  name: 'model set-tolerance',
  description:
    "Set a model's tolerance for accelerated claims in the InferenceMarket (owner only): max ulp, max absolute difference, or same argmax",
  arguments: ['[model]'],
  options: [
    { flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits), if not given as MODEL' },
    {
      flags: '--max-ulp <n>',
      description: 'float elements may differ by this many units in the last place (default 0)',
    },
    { flags: '--max-abs <x>', description: 'or by this absolute difference, e.g. 1e-5 (kept in units of 1e-9)' },
    { flags: '--same-argmax', description: "classifiers: only the index of each row's largest element must agree" },
    ...MARKET_OPTIONS,
  ],
  async run([model], rawOpts, io) {
    const { marketOpts } = await import('../market/flags.ts')
    const opts = marketOpts(rawOpts)
    const client = await import('../model-client.ts')
    const { CliFlagError, TransactionFailedError } = await import('../errors.ts')
    if (model !== undefined && opts.modelId !== undefined && model.toLowerCase() !== String(opts.modelId).toLowerCase())
      throw new CliFlagError('Pass the model either as MODEL or as --model-id, not both.')
    const modelId = client.modelIdFlag(model ?? opts.modelId, 'MODEL')
    const maxUlp = opts.maxUlp === undefined ? 0 : Number(opts.maxUlp)
    if (!Number.isInteger(maxUlp) || maxUlp < 0 || maxUlp > 0xffffffff)
      throw new CliFlagError(`--max-ulp "${opts.maxUlp}" is not a count of ulps. Pass an integer from 0 to 4294967295.`)
    const maxAbsE9 = absE9(opts.maxAbs, CliFlagError)
    const sameArgmax = Boolean(opts.sameArgmax)
    const conn = await client.connect(opts, io, true)
    try {
      const { openMarket } = await import('../market/client.ts')
      const market = await openMarket(conn)
      const m = await conn.call<{ owner: string } | null>('lattice_getModel', [modelId])
      if (!m)
        throw new CliFlagError(
          `No model ${modelId} in the registry at ${conn.url}. List models with \`lattice model list\`.`,
        )
      const me = await conn.signer!.getAddress()
      if (m.owner.toLowerCase() !== me.toLowerCase())
        throw new TransactionFailedError(
          `Only the model's owner ${m.owner} may set its tolerance; ${me} is not. Pass --key with the owner's key.`,
        )
      const what = `Setting the tolerance of ${modelId}`
      const { receipt } = await market.send('setTolerance', [modelId, maxUlp, maxAbsE9, sameArgmax], { what })
      const json = {
        modelId,
        maxUlp,
        maxAbs: Number(maxAbsE9) / 1e9,
        maxAbsE9: maxAbsE9.toString(),
        sameArgmax,
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed.toString(),
      }
      client.output(
        io,
        opts,
        json,
        `${what}: done (max ulp ${maxUlp}, max abs ${json.maxAbs}, same argmax ${sameArgmax})\nTx:        ${receipt.hash}\nBlock:     ${receipt.blockNumber}\nGas used:  ${receipt.gasUsed}`,
      )
      return 0
    } finally {
      conn.close()
    }
  },
}

/** `--max-abs` (a decimal, e.g. 1e-5 or 0.001) in units of 1e-9, as the market keeps it. */
function absE9(v: unknown, Err: new (m: string) => Error): bigint {
  if (v === undefined) return 0n
  const x = Number(v)
  const e9 = Math.round(x * 1e9)
  if (typeof v !== 'string' || !Number.isFinite(x) || x < 0 || e9 > Number.MAX_SAFE_INTEGER || (x > 0 && e9 === 0))
    throw new Err(`--max-abs "${String(v)}" is not an absolute difference. Pass a number from 1e-9 up, e.g. 1e-5.`)
  return BigInt(e9)
}
