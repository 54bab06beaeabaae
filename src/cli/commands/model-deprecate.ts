import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model deprecate`: stop a model from being run (it stays listed). */
export const modelDeprecateCommand: CliCommand = {
  name: 'model deprecate',
  description: 'Deprecate a model you own: it can no longer be run',
  options: [
    { flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits)' },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const c = await import('../model-client.ts')
    const id = c.modelIdFlag(opts.modelId)
    return c.registryTransaction(opts, io, 'deprecate', [id], `Deprecating ${id}`)
  },
}
