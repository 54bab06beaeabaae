import { bytesToHex } from '@ethereumjs/util'
import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice init`: prepare a datadir from a geth-format genesis file. */
export const initCommand: CliCommand = {
  name: 'init',
  description: 'Initialise a data directory from a geth-format genesis file',
  options: [
    {
      flags: '--genesis <file>',
      description: 'geth-format genesis.json (config, alloc, ...; config.lattice optional)',
    },
    { flags: '--datadir <dir>', description: 'data directory to create' },
  ],
  async run(_args, opts, io) {
    if (!opts.genesis) throw new CliFlagError('Pass --genesis with the path of a geth-format genesis.json.')
    if (!opts.datadir) throw new CliFlagError('Pass --datadir with the directory to initialise.')
    const { initDatadir } = await import('../../chain/datadir.ts')
    const { spec, genesis } = await initDatadir({ datadir: opts.datadir, genesisPath: opts.genesis })
    const r = {
      datadir: opts.datadir as string,
      chainId: spec.chainId.toString(),
      genesisHash: bytesToHex(genesis.hash()),
      stateRoot: bytesToHex(genesis.header.stateRoot),
    }
    printResult(
      io,
      r,
      `Initialised ${r.datadir}\nChain ID:      ${r.chainId}\nGenesis hash:  ${r.genesisHash}\nState root:    ${r.stateRoot}`,
    )
    return 0
  },
}
