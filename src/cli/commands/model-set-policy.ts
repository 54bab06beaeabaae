import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model set-policy`: change a model's access policy. */
export const modelSetPolicyCommand: CliCommand = {
  name: 'model set-policy',
  description: 'Change the access policy of a model you own (public, private, allowlist)',
  options: [
    { flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits)' },
    { flags: '--access-policy <policy>', description: 'public, private or allowlist' },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const c = await import('../model-client.ts')
    const id = c.modelIdFlag(opts.modelId)
    if (opts.accessPolicy === undefined)
      throw new (await import('../errors.ts')).CliFlagError(
        'No policy given. Pass --access-policy public, private or allowlist.',
      )
    const policy = c.policyFlag(opts.accessPolicy)
    return c.registryTransaction(
      opts,
      io,
      'setAccessPolicy',
      [id, policy],
      `Setting the policy of ${id} to ${opts.accessPolicy}`,
    )
  },
}
