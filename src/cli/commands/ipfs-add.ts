import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { IPFS_STORE_OPTIONS, print, progressBar, withStore } from '../ipfs.ts'

/** `lattice ipfs add FILE`: import a file with Kubo's profile and print its CID. */
export const ipfsAddCommand: CliCommand = {
  name: 'ipfs add',
  description: 'Add a file to IPFS (same CID as `ipfs add`) and print its CID',
  arguments: ['<file>'],
  options: [
    { flags: '--cid-version <n>', description: 'CID version: 1 (raw leaves, bafy...) or 0 (Qm...)', default: '1' },
    { flags: '--no-pin', description: 'do not pin the file (it may be garbage-collected)' },
    ...IPFS_STORE_OPTIONS,
  ],
  async run([file], opts, io) {
    const { stat } = await import('node:fs/promises')
    const st = await stat(file).catch(() => undefined)
    if (!st?.isFile()) {
      throw new CliFlagError(`No file at ${file}. Pass the path of a file to add.`)
    }
    const v = String(opts.cidVersion)
    if (v !== '0' && v !== '1') {
      throw new CliFlagError(`--cid-version ${v} is not supported. Use 0 or 1.`)
    }
    const bar = await progressBar(io, opts, 'add')
    const res = await withStore(opts, (store) =>
      store.add(
        { path: file },
        { cidVersion: Number(v) as 0 | 1, pin: opts.pin !== false, onProgress: bar.onProgress },
      ),
    ).finally(() => bar.stop())
    print(io, opts, res, res.cid)
    return 0
  },
}
