import { type CliCommand, printError, printResult } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice import`: execute and validate RLP blocks from a file (geth's export format). */
export const importCommand: CliCommand = {
  name: 'import',
  description: 'Import RLP-encoded blocks (written back to back, as geth export does), validating each',
  arguments: ['<file>'],
  options: [
    { flags: '--datadir <dir>', description: 'data directory (from `lattice init`)' },
    { flags: '--ipfs-api <url>', description: 'fetch models through an external Kubo daemon' },
    { flags: '--ipfs-peer <multiaddr>', description: 'IPFS peer to fetch models from (repeatable)', repeatable: true },
  ],
  async run(args, opts, io) {
    if (!opts.datadir) throw new CliFlagError('Pass --datadir with a directory prepared by `lattice init`.')
    const file = args[0]
    const { importBlockFile } = await import('../../chain/blockfile.ts')
    const { bytesToHex } = await import('@ethereumjs/util')
    const { openDatadirWithInference } = await import('../stack.ts')
    // blocks with inference transactions re-run the models: the node fetches them from IPFS by CID
    const opened = await openDatadirWithInference(opts.datadir, { ipfsApi: opts.ipfsApi, peers: opts.ipfsPeer })
    const chain = opened.chain
    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    const started = performance.now()
    let lastReport = started
    try {
      const result = await importBlockFile(chain, file, {
        signal: controller.signal,
        onProgress: (p) => {
          const now = performance.now()
          if (now - lastReport < 2000) return
          lastReport = now
          const pct = p.bytesTotal > 0 ? ((p.bytesRead / p.bytesTotal) * 100).toFixed(1) : '?'
          // progress is not the result: with --json it goes to stderr, leaving stdout one JSON document
          ;(io.json ? io.stderr : io.stdout).write(
            `block ${p.number}: ${p.imported} imported, ${p.skipped} already present (${pct}%)\n`,
          )
        },
      })
      const secs = ((performance.now() - started) / 1000).toFixed(1)
      const r = {
        imported: result.imported,
        skipped: result.skipped,
        seconds: Number(secs),
        head: { number: result.head.header.number.toString(), hash: bytesToHex(result.head.hash()) },
        stateRoot: bytesToHex(result.head.header.stateRoot),
      }
      printResult(
        io,
        r,
        `Imported ${r.imported} blocks (${r.skipped} already present) in ${secs}s. Head #${r.head.number} ${r.head.hash}\nState root: ${r.stateRoot}`,
      )
      return 0
    } catch (err) {
      if (controller.signal.aborted) {
        const message = `Interrupted at head #${chain.head.header.number}. Run the same command again to resume.`
        if (io.json) printError(io, 'INTERRUPTED', message)
        else io.stderr.write(`${message}\n`)
        return 130
      }
      io.stderr.write(`Import stopped at head #${chain.head.header.number}.\n`)
      throw err
    } finally {
      process.off('SIGINT', stop)
      await opened.close()
    }
  },
}
