import type { CliCommand } from '../command.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** `lattice model import-hf`: an ONNX model from the HuggingFace Hub, a snapshot directory or the HF cache, deployed. */
export const modelImportHfCommand: CliCommand = {
  name: 'model import-hf',
  description:
    'Import an ONNX model from the HuggingFace Hub (REPO[@REV]), a snapshot directory or the HF cache, and deploy it',
  arguments: ['<repo>'],
  options: [
    { flags: '--file <path>', description: 'the ONNX file in the repo (default onnx/model.onnx, then model.onnx)' },
    { flags: '--quantized [variant]', description: 'take model_quantized.onnx, or model_<variant>.onnx (e.g. int8)' },
    { flags: '--revision <rev>', description: 'branch, tag or commit (or REPO@REV)' },
    {
      flags: '--cache-dir <dir>',
      description:
        'HF cache to use before the network (default $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)',
    },
    { flags: '--name <name>', description: 'model name in the registry (default: the repo id)' },
    { flags: '--version <version>', description: 'model version (default: the revision)' },
    { flags: '--access-policy <policy>', description: 'public, private or allowlist', default: 'public' },
    { flags: '--allow <addresses>', description: 'comma-separated addresses to allow (allowlist policy)' },
    { flags: '--price <wei>', description: 'wei per inference through ModelRegistry.infer', default: '0' },
    { flags: '--description <text>', description: 'a description, stored in the package as description.txt' },
    {
      flags: '--input-shape <name=dims>',
      description: 'concrete input shape for FLOP counting, e.g. input_ids=1x16',
      repeatable: true,
    },
    ...CONNECTION_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(args, opts, io) {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { basename, join } = await import('node:path')
    const c = await import('../model-client.ts')
    const { defaultHfCache, fetchHfModel } = await import('../hf-import.ts')
    const { deployModelPackage, describeDeploy } = await import('../model-deploy.ts')
    const source = args[0]
    const policy = c.policyFlag(opts.accessPolicy)
    const price = c.weiFlag(opts.price)
    const allow = await c.addressesFlag(opts.allow, '--allow')
    const shapes = await c.shapeFlags(opts.inputShape)
    const conn = await c.connect(opts, io, true)
    const dest = await mkdtemp(join(tmpdir(), 'lattice-hf-'))
    let bar:
      | { start(total: number, v: number, p?: object): void; update(v: number, p?: object): void; stop(): void }
      | undefined
    let barFile = ''
    try {
      if (io.isTTY && !opts.json) {
        const { SingleBar, Presets } = await import('cli-progress')
        bar = new SingleBar(
          { format: '{file} [{bar}] {percentage}% {value}/{total} bytes', stream: io.stderr as never },
          Presets.shades_classic,
        )
      }
      const got = await fetchHfModel({
        source,
        revision: opts.revision as string | undefined,
        file: opts.file as string | undefined,
        quantized: opts.quantized as boolean | string | undefined,
        cacheDir: (opts.cacheDir as string | undefined) ?? defaultHfCache(),
        dest,
        onProgress: (e) => {
          if (!bar) return
          if (e.file !== barFile) {
            if (barFile) bar.stop()
            barFile = e.file
            bar.start(e.total, e.done, { file: basename(e.file) })
          } else bar.update(e.done)
        },
      })
      if (barFile) bar?.stop()
      const name = (opts.name as string | undefined) ?? got.repo ?? basename(source.replace(/\/+$/, ''))
      const version =
        (opts.version as string | undefined) ??
        (/^[0-9a-f]{40}$/.test(got.revision) ? got.revision.slice(0, 12) : got.revision)
      const r = await deployModelPackage(conn, io, {
        files: got.files,
        name,
        version,
        policy,
        price,
        allow,
        description: opts.description as string | undefined,
        shapes,
      })
      const json = {
        ...r,
        name,
        version,
        source: {
          origin: got.origin,
          repo: got.repo,
          revision: got.revision,
          file: got.modelPath,
          files: got.files.map((f) => f.name),
        },
      }
      c.output(
        io,
        opts,
        json,
        `Imported ${got.modelPath} from ${got.repo ?? source} (${got.origin}, revision ${got.revision}) with ${got.files.length - 1} companion file(s)\nDeployed "${name}" version ${version}\n${describeDeploy(r)}`,
      )
      return 0
    } finally {
      if (barFile) bar?.stop()
      conn.close()
      await rm(dest, { recursive: true, force: true })
    }
  },
}
