import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model allow`: add an address to a model's allowlist. */
export const modelAllowCommand: CliCommand = {
  name: 'model allow',
  description: 'Allow an address to run a model you own (allowlist policy)',
  options: [
    { flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits)' },
    { flags: '--address <address>', description: 'the account to allow' },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const c = await import('../model-client.ts')
    const id = c.modelIdFlag(opts.modelId)
    const [who] = await c.addressesFlag(opts.address, '--address')
    if (!who) throw new (await import('../errors.ts')).CliFlagError('No address given. Pass --address 0x...')
    return c.registryTransaction(opts, io, 'allow', [id, who], `Allowing ${who} on ${id}`)
  },
}
