import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { errorMessage } from '../../errors.ts'
import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice infer`: run a model locally, without a chain, on JSON tensors. */
export const inferCommand: CliCommand = {
  name: 'infer',
  description:
    'Run an ONNX model on JSON input tensors: the consensus runtime (the exact bits a chain computes) unless --device is given',
  options: [
    { flags: '--model <file>', description: 'path to an .onnx file' },
    {
      flags: '--input <file>',
      description: 'JSON file: {"inputs": {"x": {"dtype", "shape", "data"}}} or bare nested arrays',
    },
    { flags: '--output <file>', description: 'write {"outputs": ...} here instead of stdout' },
    {
      flags: '--output-decimals <n>',
      description: 'print float outputs as fixed-point with n decimals (round half to even)',
    },
    {
      flags: '--device <provider>',
      description:
        'cpu, coreml, webgpu, cuda or auto: native ONNX Runtime, faster, not consensus bits; default: the consensus runtime',
    },
    {
      flags: '--profile <id>',
      description: 'consensus profile to run (default consensus-v2, WebAssembly; consensus-v1 is the old native one)',
    },
  ],
  async run(_args, opts, io) {
    const model = opts.model as string | undefined
    const input = opts.input as string | undefined
    if (!model || !existsSync(model)) {
      throw new CliFlagError(
        `${model ? `No model at ${model}` : 'No model given'}. Pass --model with a path to an .onnx file.`,
      )
    }
    if (!input || !existsSync(input)) {
      throw new CliFlagError(
        `${input ? `No input file at ${input}` : 'No input given'}. Pass --input with a JSON file like {"inputs": {"x": [[0.1, 0.2]]}}.`,
      )
    }
    let doc: unknown
    try {
      doc = JSON.parse(readFileSync(input, 'utf8'))
    } catch (err) {
      throw new CliFlagError(`${input} is not valid JSON (${errorMessage(err)}). Fix the file and try again.`)
    }
    const device = opts.device as string | undefined
    if (device && opts.profile) {
      throw new CliFlagError('Pass either --device (native, off-chain) or --profile (a consensus profile), not both.')
    }
    const decimals = opts.outputDecimals === undefined ? undefined : Number(opts.outputDecimals)
    if (decimals !== undefined && !Number.isInteger(decimals)) {
      throw new CliFlagError(
        `--output-decimals "${opts.outputDecimals}" is not an integer; pass e.g. --output-decimals 18`,
      )
    }
    const { createSession } = await import('../../inference/onnx.ts')
    const { consensusProfile } = await import('../../inference/profile.ts')
    const { formatTensorJson, parseTensorJson } = await import('../../inference/json.ts')
    let session: Awaited<ReturnType<typeof createSession>> | undefined
    try {
      const profile = opts.profile ? consensusProfile(opts.profile as string) : undefined
      session = await createSession({ model: readFileSync(model), device: device as never, profile })
      const tensors = parseTensorJson(doc, { model: session.inputs })
      const outputs = await session.run(tensors, { outputDecimals: decimals })
      const text = formatTensorJson(outputs)
      const p = session.profile
      const runtime = p.wasm
        ? `${p.wasm.package} ${p.wasm.version}, WebAssembly, sha256 ${p.wasm.sha256.slice(0, 16)}…`
        : `native ${session.provider}`
      io.stderr.write(
        `profile ${p.id} (${runtime})${p.portable === false ? ': not consensus bits on other CPUs' : ''}\n`,
      )
      // the outputs are JSON already: without --output they are the result, with it the result names the file
      if (opts.output) {
        writeFileSync(opts.output as string, text)
        if (io.json) io.stdout.write(`${JSON.stringify({ output: opts.output, profile: p.id })}\n`)
      } else io.stdout.write(text)
      return 0
    } finally {
      await session?.dispose()
    }
  },
}
