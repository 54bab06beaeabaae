import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model disallow`: remove an address from a model's allowlist. */
export const modelDisallowCommand: CliCommand = {
  name: 'model disallow',
  description: 'Remove an address from the allowlist of a model you own',
  options: [
    { flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits)' },
    { flags: '--address <address>', description: 'the account to remove' },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const c = await import('../model-client.ts')
    const id = c.modelIdFlag(opts.modelId)
    const [who] = await c.addressesFlag(opts.address, '--address')
    if (!who) throw new (await import('../errors.ts')).CliFlagError('No address given. Pass --address 0x...')
    return c.registryTransaction(opts, io, 'disallow', [id, who], `Removing ${who} from ${id}`)
  },
}
