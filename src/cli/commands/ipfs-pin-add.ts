import type { CliCommand } from '../command.ts'
import { datadirOf, IPFS_STORE_OPTIONS, print, withStore } from '../ipfs.ts'

/** `lattice ipfs pin add CID`: pin a model package (manifest + all parts) or any CID. */
export const ipfsPinAddCommand: CliCommand = {
  name: 'ipfs pin add',
  description: 'Pin a model package (manifest and every file part) or a plain CID',
  arguments: ['<cid>'],
  options: [
    {
      flags: '--digest <digest>',
      description: 'refuse the package unless its manifest digest is this 0x-prefixed keccak256',
    },
    ...IPFS_STORE_OPTIONS,
  ],
  async run([cid], opts, io) {
    const { createPinningManager } = await import('../../storage/pinning.ts')
    const { pinningStateFile } = await import('../../storage/paths.ts')
    const stateFile = pinningStateFile(await datadirOf(opts))
    const rec = await withStore(opts, (store) =>
      createPinningManager({ store, stateFile }).pin(cid, { expectedDigest: opts.digest as string | undefined }),
    )
    print(io, opts, rec, `pinned ${rec.cid} (${rec.kind}, ${rec.modelType}, ${rec.bytes} bytes)`)
    return 0
  },
}
