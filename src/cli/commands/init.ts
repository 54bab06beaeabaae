import { bytesToHex } from '@ethereumjs/util'
import type { CliCommand } from '../command.ts'
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
    io.stdout.write(`Initialised ${opts.datadir}\n`)
    io.stdout.write(`Chain ID:      ${spec.chainId}\n`)
    io.stdout.write(`Genesis hash:  ${bytesToHex(genesis.hash())}\n`)
    io.stdout.write(`State root:    ${bytesToHex(genesis.header.stateRoot)}\n`)
    return 0
  },
}
