import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { IPFS_STORE_OPTIONS, print, progressBar, withStore } from '../ipfs.ts'

/** `lattice ipfs get CID -o FILE`: write a file's bytes, every block verified. */
export const ipfsGetCommand: CliCommand = {
  name: 'ipfs get',
  description: 'Write the file with this CID to disk (every block verified against its CID)',
  arguments: ['<cid>'],
  options: [{ flags: '-o, --output <file>', description: 'where to write the file' }, ...IPFS_STORE_OPTIONS],
  async run([cid], opts, io) {
    if (!opts.output) {
      throw new CliFlagError('No output file. Pass -o with the path to write, e.g. -o model.onnx')
    }
    const bar = await progressBar(io, opts, 'get')
    const res = await withStore(opts, (store) =>
      store.get(cid, opts.output as string, { onProgress: bar.onProgress }),
    ).finally(() => bar.stop())
    print(io, opts, { ...res, path: opts.output }, `${opts.output} (${res.size} bytes)`)
    return 0
  },
}
