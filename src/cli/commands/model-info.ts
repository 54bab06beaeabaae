import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS } from '../model-client.ts'

/** `lattice model info`: one model's registry entry. */
export const modelInfoCommand: CliCommand = {
  name: 'model info',
  description: "Show a model's registry entry (CID, digest, I/O, policy, price, usage)",
  options: [{ flags: '--model-id <id>', description: 'the model id (0x + 64 hex digits)' }, ...CONNECTION_OPTIONS],
  async run(_args, opts, io) {
    const { modelIdFlag, output, rpcCall, rpcUrlOf } = await import('../model-client.ts')
    const { CliFlagError } = await import('../errors.ts')
    const id = modelIdFlag(opts.modelId)
    const url = rpcUrlOf(opts)
    const m = await rpcCall<Record<string, any> | null>(url, 'lattice_getModel', [id])
    if (!m) throw new CliFlagError(`No model ${id} in the registry at ${url}. List models with \`lattice model list\`.`)
    const human = [
      `Model id:    ${m.modelId}`,
      `Name:        ${m.name}`,
      `Version:     ${m.version}`,
      `Owner:       ${m.owner}`,
      `Status:      ${m.status}`,
      `Policy:      ${m.policy}${m.allowlist.length ? ` (${m.allowlist.join(', ')})` : ''}`,
      `Price:       ${m.price} wei`,
      `CID:         ${m.cid}`,
      `Digest:      ${m.digest}`,
      `Commitment:  ${m.commitment}`,
      `Format:      ${m.format}`,
      `I/O:         ${m.io}`,
      `Usage:       ${m.runs} on-chain run(s), ${m.inferences} paid through the registry`,
      `Registered:  block ${m.registeredBlock} (tx ${m.registeredTx})`,
      ...(m.previous ? [`Previous:    ${m.previous}`] : []),
      ...(m.next ? [`Replaced by: ${m.next}`] : []),
    ].join('\n')
    output(io, opts, m, human)
    return 0
  },
}
