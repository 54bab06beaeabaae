import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model update`: register a new version of a model you own (the old one is deprecated). */
export const modelUpdateCommand: CliCommand = {
  name: 'model update',
  description: 'Register a new version of a model you own; the old version is deprecated',
  options: [
    { flags: '--model-id <id>', description: 'the model to replace' },
    { flags: '--model <path>', description: '.onnx file or package directory of the new version' },
    { flags: '--version <version>', description: 'the new version' },
    { flags: '--access-policy <policy>', description: 'public, private or allowlist (default: the old policy)' },
    { flags: '--price <wei>', description: 'wei per inference (default: the old price)' },
    { flags: '--allow <addresses>', description: 'comma-separated addresses to allow (allowlists do not carry over)' },
    { flags: '--description <text>', description: 'a description, stored in the package as description.txt' },
    { flags: '--input-shape <name=dims>', description: 'concrete input shape for FLOP counting', repeatable: true },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const c = await import('../model-client.ts')
    const { deployModelPackage, describeDeploy } = await import('../model-deploy.ts')
    const id = c.modelIdFlag(opts.modelId)
    if (!opts.model) throw new CliFlagError("No model given. Pass --model with the new version's .onnx file.")
    if (!opts.version)
      throw new CliFlagError('No version given. Pass --version with the new version, e.g. --version 2.')
    const conn = await c.connect(opts, io, true)
    try {
      const old = await conn.call<Record<string, any> | null>('lattice_getModel', [id])
      if (!old) throw new CliFlagError(`No model ${id} in the registry. List models with \`lattice model list\`.`)
      const codes: Record<string, number> = { public: 0, private: 1, allowlist: 2 }
      const r = await deployModelPackage(conn, io, {
        files: await c.modelPackageFiles(String(opts.model)),
        name: old.name,
        version: String(opts.version),
        policy: opts.accessPolicy === undefined ? codes[old.policy] : c.policyFlag(opts.accessPolicy),
        price: opts.price === undefined ? BigInt(old.price) : c.weiFlag(opts.price),
        allow: await c.addressesFlag(opts.allow, '--allow'),
        description: opts.description as string | undefined,
        shapes: await c.shapeFlags(opts.inputShape),
        updateOf: id,
      })
      c.output(io, opts, { ...r, previous: id }, `Updated ${id} to version ${opts.version}\n${describeDeploy(r)}`)
      return 0
    } finally {
      conn.close()
    }
  },
}
