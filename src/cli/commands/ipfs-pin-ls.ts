import type { CliCommand } from '../command.ts'
import { datadirOf, IPFS_STORE_OPTIONS, print, withStore } from '../ipfs.ts'

/** `lattice ipfs pin ls`: pinned packages and CIDs with sizes, plus the pinning summary. */
export const ipfsPinLsCommand: CliCommand = {
  name: 'ipfs pin ls',
  description: 'List pinned model packages and CIDs with their sizes',
  options: [...IPFS_STORE_OPTIONS],
  async run(_args, opts, io) {
    const { createPinningManager } = await import('../../storage/pinning.ts')
    const { pinningStateFile } = await import('../../storage/paths.ts')
    const stateFile = pinningStateFile(await datadirOf(opts))
    const { pins, summary, storePins } = await withStore(opts, async (store) => {
      const pm = createPinningManager({ store, stateFile })
      return { pins: await pm.list(), summary: await pm.summary(), storePins: await store.pins() }
    })
    const tracked = new Set(pins.map((p) => p.cid))
    const untracked = storePins.filter((p) => !tracked.has(p.cid)).map((p) => p.cid)
    const lines = pins.map((p) => `${p.cid}  ${p.kind}  ${p.modelType}  ${p.bytes} bytes${p.name ? `  ${p.name}` : ''}`)
    if (lines.length === 0) lines.push('(no pinned packages)')
    lines.push(
      `${summary.pinnedModels} models, ${summary.bytes} bytes pinned; rewards accrued ${summary.rewardsAccrued}`,
    )
    if (untracked.length > 0) lines.push(`${untracked.length} other pinned CIDs (files and parts); --json lists them`)
    print(io, opts, { pins, summary, otherPins: untracked }, lines.join('\n'))
    return 0
  },
}
