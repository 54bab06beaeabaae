import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { IPFS_STORE_OPTIONS, print, progressBar, withStore } from '../ipfs.ts'

/** `lattice ipfs pack DIR`: build a model package and print its manifest CID, digest and commitment. */
export const ipfsPackCommand: CliCommand = {
  name: 'ipfs pack',
  description: 'Pack a model directory (.onnx, external data, tokenizer/config) into a model package on IPFS',
  arguments: ['<dir>'],
  options: [
    { flags: '--name <name>', description: 'package name (default: the directory name)' },
    {
      flags: '--model-type <type>',
      description: 'model type for pinning rewards, e.g. classifier, llm',
      default: 'onnx',
    },
    { flags: '--model <file>', description: 'the main .onnx file when the directory has several' },
    { flags: '--cid-version <n>', description: 'CID version: 1 or 0', default: '1' },
    { flags: '--no-pin', description: 'do not pin the package' },
    ...IPFS_STORE_OPTIONS,
  ],
  async run([dir], opts, io) {
    const v = String(opts.cidVersion)
    if (v !== '0' && v !== '1') {
      throw new CliFlagError(`--cid-version ${v} is not supported. Use 0 or 1.`)
    }
    const { addModelPackage } = await import('../../storage/package.ts')
    const bar = await progressBar(io, opts, 'pack')
    const res = await withStore(opts, (store) =>
      addModelPackage(
        store,
        { dir },
        {
          name: opts.name as string | undefined,
          modelType: opts.modelType as string,
          model: opts.model as string | undefined,
          cidVersion: Number(v) as 0 | 1,
          pin: opts.pin !== false,
          onProgress: bar.onProgress,
        },
      ),
    ).finally(() => bar.stop())
    print(
      io,
      opts,
      res,
      [
        `Manifest CID: ${res.manifestCid}`,
        `Digest:       ${res.digest}`,
        `Commitment:   ${res.commitment}`,
        `Files:        ${res.manifest.files.map((f) => `${f.name} (${f.kind}, ${f.size} bytes)`).join(', ')}`,
      ].join('\n'),
    )
    return 0
  },
}
