import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice network status`: head, state root, finalized block and peers of every node (EL and CL). */
export const networkStatusCommand: CliCommand = {
  name: 'network status',
  description:
    'Show each node of a local network: execution head, state root, finalized block, peers; Lodestar head and finality',
  options: [{ flags: '--dir <dir>', description: 'the directory given to `lattice network up`' }],
  async run(_args, opts, io) {
    if (!opts.dir) throw new CliFlagError('Pass --dir with the directory of the network (as given to `network up`).')
    const { readNetworkState } = await import('../network/layout.ts')
    const { formatStatus, networkStatus } = await import('../network/status.ts')
    const state = readNetworkState(String(opts.dir))
    const rows = await networkStatus(state)
    printResult(io, { dir: state.dir, nodes: rows }, formatStatus(rows))
    return 0
  },
}
