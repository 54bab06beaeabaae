import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice export`: write canonical blocks as RLP, back to back (geth's export format). */
export const exportCommand: CliCommand = {
  name: 'export',
  description: 'Export canonical blocks to a file as RLP written back to back',
  arguments: ['<file>'],
  options: [
    { flags: '--datadir <dir>', description: 'data directory (from `lattice init`)' },
    { flags: '--from <n>', description: 'first block (default 1)' },
    { flags: '--to <n>', description: 'last block (default: the head)' },
  ],
  async run(args, opts, io) {
    if (!opts.datadir) throw new CliFlagError('Pass --datadir with a directory prepared by `lattice init`.')
    const num = (v: unknown, flag: string) => {
      if (v === undefined) return undefined
      if (!/^\d+$/.test(String(v))) {
        throw new CliFlagError(`${flag} ${v} is not a block number. Pass a non-negative integer.`)
      }
      return BigInt(String(v))
    }
    const from = num(opts.from, '--from')
    const to = num(opts.to, '--to')
    const { exportBlockFile } = await import('../../chain/blockfile.ts')
    const { openDatadirWithInference } = await import('../stack.ts')
    // after a crash, opening the datadir re-executes the blocks of its write-ahead log, inferences included; an
    // export of a cleanly closed datadir runs none, so no runtime warm-up at open
    const { chain, close } = await openDatadirWithInference(opts.datadir, { warmUp: false })
    try {
      const { exported } = await exportBlockFile(chain, args[0], { from, to })
      printResult(io, { exported, file: args[0] }, `Exported ${exported} blocks to ${args[0]}`)
      return 0
    } finally {
      await close()
    }
  },
}
