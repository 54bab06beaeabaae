import '../polyfills.ts'
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { errorMessage, LatticeError } from '../errors.ts'
import type { CliCommand, CliIO } from './command.ts'
import { loadCommands } from './commands.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/** Build the commander program from the command list. */
export function buildProgram(commands: CliCommand[], io: CliIO, onExit: (code: number) => void): Command {
  const program = new Command('lattice')
    .description('Lattice: an EVM chain whose precompile runs ONNX models inside transactions')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError()
    // program options only before the command: `model deploy --version 2` is the model's version
    .enablePositionalOptions()
  const groups = new Map<string, Command>()
  for (const c of commands) {
    const parts = c.name.split(' ')
    let parent = program
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts.slice(0, i + 1).join(' ')
      let g = groups.get(key)
      if (!g) {
        g = parent.command(parts[i]).description(`${key} commands`)
        groups.set(key, g)
      }
      parent = g
    }
    const cmd = parent.command(parts[parts.length - 1]).description(c.description)
    for (const a of c.arguments ?? []) cmd.argument(a)
    for (const o of c.options) {
      if (o.repeatable) cmd.option(o.flags, o.description, (v: string, prev: string[] = []) => [...prev, v])
      else cmd.option(o.flags, o.description, o.default as string | boolean | undefined)
    }
    cmd.action(async (...raw: unknown[]) => {
      const opts = raw[raw.length - 2] as Record<string, unknown>
      const args = raw.slice(0, raw.length - 2).flat() as string[]
      const code = await c.run(args, opts, io)
      onExit(code ?? 0)
    })
  }
  return program
}

async function main(): Promise<void> {
  const io: CliIO = { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stdout.isTTY) }
  const program = buildProgram(await loadCommands(), io, (code) => {
    process.exitCode = code
  })
  program.exitOverride()
  try {
    await program.parseAsync(process.argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode
      return
    }
    io.stderr.write(`error: ${errorMessage(err)}\n`)
    if (!(err instanceof LatticeError) && process.env.LATTICE_DEBUG) io.stderr.write(`${(err as Error).stack}\n`)
    process.exitCode = 1
  }
}

await main()
