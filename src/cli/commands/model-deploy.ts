import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model deploy`: check a model, add its package to the node's IPFS store and register it. */
export const modelDeployCommand: CliCommand = {
  name: 'model deploy',
  description: 'Check an ONNX model, add it to IPFS through the node and register it in ModelRegistry',
  options: [
    {
      flags: '--model <path>',
      description: '.onnx file (external data and tokenizer/config files beside it go too) or a package directory',
    },
    { flags: '--name <name>', description: 'model name in the registry' },
    { flags: '--version <version>', description: 'model version', default: '1' },
    { flags: '--access-policy <policy>', description: 'public, private or allowlist', default: 'public' },
    { flags: '--allow <addresses>', description: 'comma-separated addresses to allow (allowlist policy)' },
    { flags: '--price <wei>', description: 'wei per inference through ModelRegistry.infer', default: '0' },
    { flags: '--description <text>', description: 'a description, stored in the package as description.txt' },
    {
      flags: '--input-shape <name=dims>',
      description: 'concrete input shape for FLOP counting, e.g. x=1x4',
      repeatable: true,
    },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(_args, opts, io) {
    const { addressesFlag, connect, modelPackageFiles, output, policyFlag, shapeFlags, weiFlag } = await import(
      '../model-client.ts'
    )
    const { deployModelPackage, describeDeploy } = await import('../model-deploy.ts')
    if (!opts.model) throw new CliFlagError('No model given. Pass --model with a path to an .onnx file.')
    if (!opts.name) throw new CliFlagError('No name given. Pass --name "My Model".')
    const files = await modelPackageFiles(String(opts.model))
    const req = {
      files,
      name: String(opts.name),
      version: String(opts.version ?? '1'),
      policy: policyFlag(opts.accessPolicy),
      price: weiFlag(opts.price),
      allow: await addressesFlag(opts.allow, '--allow'),
      description: opts.description as string | undefined,
      shapes: await shapeFlags(opts.inputShape),
    }
    const conn = await connect(opts, io, true)
    try {
      const r = await deployModelPackage(conn, io, req)
      output(io, opts, r, `Deployed "${req.name}" version ${req.version}\n${describeDeploy(r)}`)
      return 0
    } finally {
      conn.close()
    }
  },
}
