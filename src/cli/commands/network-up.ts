import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice network up`: a local multi-validator network (Lattice nodes driven by Lodestar), detached. */
export const networkUpCommand: CliCommand = {
  name: 'network up',
  description: 'Start a local network: N Lattice nodes driven by N Lodestar validators over the Engine API',
  options: [
    { flags: '--dir <dir>', description: 'directory for the genesis, keys, datadirs, logs and network.json' },
    { flags: '--validators <n>', description: 'validators (one Lattice node + one Lodestar each)', default: '4' },
    { flags: '--reset', description: 'delete a stopped network in --dir first' },
    {
      flags: '--lodestar <path>',
      description: 'lodestar binary (default: $LATTICE_LODESTAR or .cache/lodestar/lodestar from scripts/lodestar.sh)',
    },
    { flags: '--slot-seconds <s>', description: 'consensus slot length in seconds', default: '2' },
    { flags: '--no-examples', description: 'do not register the example models through node 1' },
  ],
  async run(_args, opts, io) {
    if (!opts.dir) throw new CliFlagError('Pass --dir with a directory for the network, e.g. --dir ./net.')
    const validators = Number(opts.validators)
    if (!Number.isInteger(validators) || validators < 1 || validators > 16) {
      throw new CliFlagError(`--validators ${opts.validators} is not a count from 1 to 16. Pass e.g. --validators 4.`)
    }
    const slotSeconds = Number(opts.slotSeconds)
    if (!Number.isInteger(slotSeconds) || slotSeconds < 1) {
      throw new CliFlagError(`--slot-seconds ${opts.slotSeconds} is not a whole number of seconds. Pass e.g. 2.`)
    }
    const { networkUp } = await import('../network/up.ts')
    const { writeNetworkState } = await import('../network/layout.ts')
    const progress = (line: string) => io.stderr.write(`${line}\n`)
    const state = await networkUp({
      dir: String(opts.dir),
      validators,
      reset: Boolean(opts.reset),
      lodestar: opts.lodestar as string | undefined,
      slotSeconds,
      onProgress: progress,
    })
    if (opts.examples !== false) {
      const { registerNetworkExamples } = await import('../network/examples.ts')
      const { waitForBlocks } = await import('../network/blocks.ts')
      const rpcUrl = `http://127.0.0.1:${state.nodes[0].el.rpcPort}`
      progress('waiting for the first blocks to register the example models through node 1')
      await waitForBlocks(state, 1, { timeoutMs: 300_000 })
      const all = state.nodes.map((x) => `http://127.0.0.1:${x.el.rpcPort}`)
      state.examples = await registerNetworkExamples(rpcUrl, io, all)
      writeNetworkState(state)
    }
    const lines = [`Network of ${state.validators} validators in ${state.dir} (chain ${state.chainId})`]
    lines.push(`Execution genesis ${state.genesisHash}; consensus genesis time ${state.genesisTime}`)
    for (const { index, el, cl } of state.nodes) {
      lines.push(
        `node ${index + 1}: RPC http://127.0.0.1:${el.rpcPort}  WS ws://127.0.0.1:${el.rpcPort}  Engine API http://127.0.0.1:${el.authPort}  Lodestar REST http://127.0.0.1:${cl.restPort}  validator ${el.validator}`,
      )
    }
    for (const m of state.examples) lines.push(`model ${m.name}: ${m.modelId}`)
    lines.push(`Logs in ${state.dir}/logs. Stop with: lattice network down --dir ${state.dir}`)
    printResult(io, state, lines.join('\n'))
    return 0
  },
}
