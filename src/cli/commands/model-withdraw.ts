import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model withdraw`: withdraw inference revenue owed to the signer. */
export const modelWithdrawCommand: CliCommand = {
  name: 'model withdraw',
  description: 'Withdraw the inference fees the registry holds for you',
  options: [...CONNECTION_OPTIONS, ...SIGNER_OPTIONS],
  async run(_args, opts, io) {
    const c = await import('../model-client.ts')
    return c.registryTransaction(opts, io, 'withdraw', [], 'Withdrawing inference revenue')
  },
}
