import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model set-price`: set the wei charged per inference through ModelRegistry.infer. */
export const modelSetPriceCommand: CliCommand = {
  name: 'model set-price',
  description: 'Set the price per inference of a model you own (wei)',
  options: [
    { flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits)' },
    { flags: '--price <wei>', description: 'wei per inference (0 for free)' },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const c = await import('../model-client.ts')
    const id = c.modelIdFlag(opts.modelId)
    if (opts.price === undefined)
      throw new (await import('../errors.ts')).CliFlagError(
        'No price given. Pass --price <wei>, e.g. --price 0 for free.',
      )
    const price = c.weiFlag(opts.price)
    return c.registryTransaction(opts, io, 'setPrice', [id, price], `Setting the price of ${id} to ${price} wei`)
  },
}
