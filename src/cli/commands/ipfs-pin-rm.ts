import type { CliCommand } from '../command.ts'
import { datadirOf, IPFS_STORE_OPTIONS, print, withStore } from '../ipfs.ts'

/** `lattice ipfs pin rm CID`: unpin a package (or CID); its blocks go at the next gc. */
export const ipfsPinRmCommand: CliCommand = {
  name: 'ipfs pin rm',
  description: 'Unpin a model package or CID',
  arguments: ['<cid>'],
  options: [...IPFS_STORE_OPTIONS],
  async run([cid], opts, io) {
    const { createPinningManager } = await import('../../storage/pinning.ts')
    const { pinningStateFile } = await import('../../storage/paths.ts')
    const stateFile = pinningStateFile(await datadirOf(opts))
    await withStore(opts, (store) => createPinningManager({ store, stateFile }).unpin(cid))
    print(io, opts, { unpinned: cid }, `unpinned ${cid}`)
    return 0
  },
}
