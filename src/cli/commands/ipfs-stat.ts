import type { CliCommand } from '../command.ts'
import { IPFS_STORE_OPTIONS, print, withStore } from '../ipfs.ts'

/** `lattice ipfs stat CID`: type and size; package details when the CID is a model package manifest. */
export const ipfsStatCommand: CliCommand = {
  name: 'ipfs stat',
  description: 'Show the type and size of a CID (and the package, for a model package manifest)',
  arguments: ['<cid>'],
  options: [...IPFS_STORE_OPTIONS],
  async run([cid], opts, io) {
    const out = await withStore(opts, async (store) => {
      const st = await store.stat(cid)
      if (st.type !== 'file' || st.size > 4 * 1024 * 1024) return { ...st }
      const { readManifest } = await import('../../storage/package.ts')
      const pkg = await readManifest(store, cid, undefined).catch(() => undefined)
      if (!pkg) return { ...st }
      const m = pkg.manifest
      return {
        ...st,
        package: {
          name: m.name,
          modelType: m.modelType,
          model: m.model,
          digest: pkg.digest,
          commitment: m.commitment.root,
          totalSize: m.totalSize,
          files: m.files.map((f) => ({ name: f.name, kind: f.kind, size: f.size, parts: f.parts.length })),
        },
      }
    })
    const lines = [`CID:  ${out.cid}`, `Type: ${out.type}`, `Size: ${out.size} bytes`]
    if ('package' in out && out.package) {
      const p = out.package
      lines.push(
        `Package:    ${p.name} (${p.modelType}), model ${p.model}, ${p.totalSize} bytes`,
        `Digest:     ${p.digest}`,
        `Commitment: ${p.commitment}`,
        ...p.files.map((f) => `  ${f.name}  ${f.kind}  ${f.size} bytes${f.parts > 1 ? `  ${f.parts} parts` : ''}`),
      )
    }
    print(io, opts, out, lines.join('\n'))
    return 0
  },
}
