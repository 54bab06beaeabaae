import { LatticeError } from '../../errors.ts'
import { type CliCommand, printResult } from '../command.ts'
import { CliFlagError, NodeRequestError } from '../errors.ts'
import { rpcMessage } from './proof-get.ts'

/** `lattice pinning summary`: what the node pins, and its pinner's standing in IPFSIncentives. */
export const pinningSummaryCommand: CliCommand = {
  name: 'pinning summary',
  description: 'Show pinned models and bytes, and the pinner’s rewards and challenges passed/failed',
  options: [
    { flags: '--rpc-url <url>', description: 'Lattice node JSON-RPC URL', default: 'http://127.0.0.1:8545' },
    {
      flags: '--pinner <address>',
      description: 'read this pinner account from IPFSIncentives (default: the node’s own pinner, if it runs one)',
    },
    { flags: '--json', description: 'print machine-readable JSON' },
  ],
  async run(_args, opts, io) {
    const { Contract, JsonRpcProvider, isAddress } = await import('ethers')
    if (opts.pinner !== undefined && !isAddress(opts.pinner)) {
      throw new CliFlagError(`--pinner "${opts.pinner}" is not an address.`)
    }
    const provider = new JsonRpcProvider(opts.rpcUrl as string, undefined, { staticNetwork: true })
    try {
      const storage = await provider.send('lattice_pinningSummary', []).catch(() => undefined)
      let pinner: Record<string, unknown> | undefined
      if (opts.pinner) {
        const { INCENTIVES_ABI } = await import('../pinner.ts')
        const { IPFS_INCENTIVES_ADDRESS } = await import('../../precompiles/addresses.ts')
        const c = new Contract(IPFS_INCENTIVES_ADDRESS, INCENTIVES_ABI, provider) as any
        const p = await c.pinners(opts.pinner)
        const claims: string[] = await c.claims(opts.pinner)
        pinner = {
          address: opts.pinner,
          stake: p.stake.toString(),
          rewardsEarned: p.earned.toString(),
          rewardsOwed: p.owed.toString(),
          claimedModels: claims.length,
          challengesPassed: Number(p.passed),
          challengesFailed: Number(p.failed),
        }
      } else {
        pinner = await provider.send('lattice_pinnerSummary', []).catch(() => undefined)
      }
      if (!storage && !pinner) {
        throw new NodeRequestError(
          `The node at ${opts.rpcUrl} serves neither lattice_pinningSummary nor a pinner. Pass --rpc-url, or --pinner ADDRESS.`,
        )
      }
      const lines: string[] = []
      if (storage) lines.push(`pinned models   ${storage.pinnedModels}`, `pinned bytes    ${storage.bytes}`)
      if (pinner) {
        lines.push(
          `pinner          ${pinner.address}`,
          `stake (wei)     ${pinner.stake}`,
          `rewards (wei)   ${pinner.rewardsEarned}`,
          `claimed models  ${pinner.claimedModels}`,
          `challenges      ${pinner.challengesPassed} passed, ${pinner.challengesFailed} failed`,
        )
      } else lines.push('pinner          none (start the node with a pinner key, or pass --pinner ADDRESS)')
      printResult(io, { storage, pinner }, lines.join('\n'))
      return 0
    } catch (err) {
      if (err instanceof LatticeError) throw err
      throw new NodeRequestError(`${rpcMessage(err)} (node ${opts.rpcUrl})`, { cause: err })
    } finally {
      provider.destroy()
    }
  },
}
