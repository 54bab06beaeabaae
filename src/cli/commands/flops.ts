import { existsSync, readFileSync } from 'node:fs'
import type { CliCommand } from '../command.ts'
import { CliFlagError } from '../errors.ts'

/** `lattice flops`: static FLOP count of a model (what the precompile charges gas for). */
export const flopsCommand: CliCommand = {
  name: 'flops',
  description: 'Count the FLOPs, MACs and parameters of an ONNX model, statically (nothing runs)',
  options: [
    { flags: '--model <file>', description: 'path to an .onnx file' },
    {
      flags: '--input <name=shape>',
      description: 'concrete shape of a dynamic input, e.g. x=1x3x224x224 (repeatable)',
      repeatable: true,
    },
    {
      flags: '--value <name=v,...>',
      description: 'value of a small integer input that decides shapes or branches, e.g. sr=16000 (repeatable)',
      repeatable: true,
    },
    { flags: '--json', description: 'print {"flops","macs","params","byOp"} as JSON' },
  ],
  async run(_args, opts, io) {
    const file = opts.model as string | undefined
    if (!file) throw new CliFlagError('No model given. Pass --model with a path to an .onnx file.')
    if (!existsSync(file)) throw new CliFlagError(`No model at ${file}. Pass --model with a path to an .onnx file.`)
    const { countFlops, parseShapeArg } = await import('../../inference/flops.ts')
    type Shape = number[] | { shape: number[]; values?: number[] }
    const inputs: Record<string, Shape> = {}
    for (const a of (opts.input as string[] | undefined) ?? []) {
      const [name, shape] = parseShapeArg(a)
      inputs[name] = shape
    }
    for (const a of (opts.value as string[] | undefined) ?? []) {
      const eq = a.indexOf('=')
      const values = a
        .slice(eq + 1)
        .split(',')
        .map(Number)
      if (eq <= 0 || values.some((v) => !Number.isFinite(v))) {
        throw new CliFlagError(`--value "${a}" is not name=v1,v2,...; e.g. --value sr=16000`)
      }
      const name = a.slice(0, eq)
      const prev = inputs[name]
      const shape = Array.isArray(prev) ? prev : values.length === 1 ? [] : [values.length]
      inputs[name] = { shape, values }
    }
    const r = countFlops({ model: readFileSync(file), inputs })
    if (opts.json) {
      io.stdout.write(`${JSON.stringify({ flops: r.flops, macs: r.macs, params: r.params, byOp: r.byOp }, null, 2)}\n`)
      return 0
    }
    const fmt = (n: number): string => n.toLocaleString('en-US')
    const g = (n: number): string =>
      n >= 1e9 ? `${(n / 1e9).toFixed(3)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(3)} M` : `${n}`
    io.stdout.write(`FLOPs   ${fmt(r.flops)} (${g(r.flops)})\n`)
    io.stdout.write(`MACs    ${fmt(r.macs)} (${g(r.macs)})\n`)
    io.stdout.write(`params  ${fmt(r.params)} (${g(r.params)})\n\n`)
    const rows = Object.entries(r.byOp).sort((a, b) => b[1].flops - a[1].flops || a[0].localeCompare(b[0]))
    const w = Math.max(2, ...rows.map(([op]) => op.length))
    io.stdout.write(
      `${'op'.padEnd(w)}  ${'nodes'.padStart(6)}  ${'FLOPs'.padStart(16)}  ${'MACs'.padStart(16)}  share\n`,
    )
    for (const [op, b] of rows) {
      const share = r.flops ? ((100 * b.flops) / r.flops).toFixed(1) : '0.0'
      io.stdout.write(
        `${op.padEnd(w)}  ${String(b.count).padStart(6)}  ${fmt(b.flops).padStart(16)}  ${fmt(b.macs).padStart(16)}  ${share.padStart(5)}%\n`,
      )
    }
    return 0
  },
}
