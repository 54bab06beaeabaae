import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS } from '../model-client.ts'

/** `lattice model list`: models in the registry, from the node's registry index. */
export const modelListCommand: CliCommand = {
  name: 'model list',
  description: 'List registered models (filters: owner, name, status, policy)',
  options: [
    { flags: '--owner <address>', description: 'only models owned by this address' },
    { flags: '--name <name>', description: 'only models with this name' },
    { flags: '--status <status>', description: 'active or deprecated' },
    { flags: '--policy <policy>', description: 'public, private or allowlist' },
    { flags: '--offset <n>', description: 'skip this many models', default: '0' },
    { flags: '--limit <n>', description: 'show at most this many models', default: '100' },
    ...CONNECTION_OPTIONS,
  ],
  async run(_args, opts, io) {
    const { addressesFlag, output, rpcCall, rpcUrlOf } = await import('../model-client.ts')
    const { CliFlagError } = await import('../errors.ts')
    const int = (v: unknown, flag: string) => {
      const n = Number(v)
      if (!Number.isSafeInteger(n) || n < 0)
        throw new CliFlagError(`${flag} "${String(v)}" is not a count. Pass a whole number.`)
      return n
    }
    const filter: Record<string, unknown> = {
      offset: int(opts.offset ?? 0, '--offset'),
      limit: int(opts.limit ?? 100, '--limit'),
    }
    if (opts.owner) filter.owner = (await addressesFlag(opts.owner, '--owner'))[0]
    if (opts.name) filter.name = opts.name
    if (opts.status) filter.status = opts.status
    if (opts.policy) filter.policy = opts.policy
    const url = rpcUrlOf(opts)
    const r = await rpcCall<{ models: any[]; total: number }>(url, 'lattice_listModels', [filter])
    const lines = r.models.map(
      (m) => `${m.modelId}  ${m.name} v${m.version}  ${m.status}  ${m.policy}  price ${m.price} wei  owner ${m.owner}`,
    )
    output(
      io,
      opts,
      r,
      r.total === 0
        ? 'No models registered. Deploy one with `lattice model deploy --model FILE --name NAME`.'
        : `${lines.join('\n')}\n${r.models.length} of ${r.total} model(s)`,
    )
    return 0
  },
}
