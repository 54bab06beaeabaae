import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice network down`: stop every process of a local network started by `network up`. */
export const networkDownCommand: CliCommand = {
  name: 'network down',
  description: 'Stop every Lattice node and Lodestar of a local network',
  options: [{ flags: '--dir <dir>', description: 'the directory given to `lattice network up`' }],
  async run(_args, opts, io) {
    if (!opts.dir) throw new CliFlagError('Pass --dir with the directory of the network (as given to `network up`).')
    const { readNetworkState } = await import('../network/layout.ts')
    const { networkDown } = await import('../network/status.ts')
    const state = readNetworkState(String(opts.dir))
    const stopped = await networkDown(state, { onProgress: (l) => io.stderr.write(`${l}\n`) })
    printResult(
      io,
      { dir: state.dir, stopped },
      stopped.length === 0
        ? `Nothing of the network in ${state.dir} was running.`
        : stopped.map((s) => `stopped ${s.label} (pid ${s.pid}${s.killed ? ', killed' : ''})`).join('\n'),
    )
    return 0
  },
}
