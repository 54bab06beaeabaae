// The command runner: builds the commander program from the command list and owns how results and errors
// are printed, so every command gets `--json` and the same error shape in one place.
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { errorMessage, LatticeError } from '../errors.ts'
import type { CliCommand, CliIO, CliOption } from './command.ts'
import { printError } from './command.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/** The flag every command accepts: scripts can pass it to any command and read one JSON document. */
export const JSON_OPTION: CliOption = {
  flags: '--json',
  description: 'print one JSON document: the result, or {"error":{"code","message"}} with a non-zero exit code',
}

/** Whether `--json` was given before any `--` terminator. */
export function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json')
}

/**
 * Build the commander program from the command list. Every command accepts `--json` (before or after the
 * command name); with it a command prints one JSON document, and any error, parse errors included, is printed
 * as `{"error":{"code","message"}}` on stdout with a non-zero exit code. A command's own errors are reported
 * here and end in `onExit(1)`; commander's parse errors still throw (exitOverride) after they are printed.
 */
export function buildProgram(commands: CliCommand[], io: CliIO, onExit: (code: number) => void): Command {
  const program = new Command('lattice')
  // commander prints its own errors (unknown option, missing argument); with --json they are JSON too
  // (rawArgs: the argv given to parse, set by commander but missing from its type declarations)
  const json = () => jsonRequested((program as unknown as { rawArgs: string[] }).rawArgs.slice(2))
  program
    .description('Lattice: an EVM chain whose precompile runs ONNX models inside transactions')
    .version(pkg.version, '-V, --version')
    .option(JSON_OPTION.flags, JSON_OPTION.description)
    .showHelpAfterError()
    // program options only before the command: `model deploy --version 2` is the model's version
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => {
        if (!json()) io.stderr.write(s)
      },
      outputError: (s, write) => {
        if (!json()) return write(s)
        const message = s.trim().replace(/^error: /, '')
        printError(io, /^unknown command/.test(message) ? 'UNKNOWN_COMMAND' : 'BAD_FLAG', message)
      },
    })
  const groups = new Map<string, Command>()
  for (const c of commands) {
    const parts = c.name.split(' ')
    let parent = program
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts.slice(0, i + 1).join(' ')
      let g = groups.get(key)
      if (!g) {
        // a command may also be a group (`executor` and `executor status`): its subcommands join it
        g =
          parent.commands.find((x) => x.name() === parts[i]) ?? parent.command(parts[i]).description(`${key} commands`)
        groups.set(key, g)
      }
      parent = g
    }
    const cmd = parent.command(parts[parts.length - 1]).description(c.description)
    for (const a of c.arguments ?? []) cmd.argument(a)
    const options = c.options.some((o) => o.flags === JSON_OPTION.flags) ? c.options : [...c.options, JSON_OPTION]
    for (const o of options) {
      if (o.repeatable) cmd.option(o.flags, o.description, (v: string, prev: string[] = []) => [...prev, v])
      else cmd.option(o.flags, o.description, o.default as string | boolean | undefined)
    }
    cmd.action(async (...raw: unknown[]) => {
      const opts = raw[raw.length - 2] as Record<string, unknown>
      const args = raw.slice(0, raw.length - 2).flat() as string[]
      if (program.opts().json) opts.json = true
      const cio: CliIO = opts.json ? { ...io, json: true } : io
      try {
        onExit((await c.run(args, opts, cio)) ?? 0)
      } catch (err) {
        reportError(err, cio)
        onExit(1)
      }
    })
  }
  return program
}

/** Print an error a command threw: `error: <message>` on stderr, or the JSON error document with --json. */
export function reportError(err: unknown, io: CliIO): void {
  const details = err instanceof LatticeError ? err.details : undefined
  if (io.json) {
    const code = (err as { code?: unknown })?.code
    printError(io, typeof code === 'string' ? code : 'INTERNAL', errorMessage(err), details)
    return
  }
  io.stderr.write(`error: ${errorMessage(err)}\n${details ? `${details}\n` : ''}`)
  if (!(err instanceof LatticeError) && process.env.LATTICE_DEBUG) io.stderr.write(`${(err as Error).stack}\n`)
}
