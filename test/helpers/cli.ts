// Run `lattice ...` in-process through the real commander program, capturing what it prints.
import { Writable } from 'node:stream'
import type { CliCommand, CliIO } from '../../src/cli/command.ts'
import { loadCommands } from '../../src/cli/commands.ts'
import { buildProgram } from '../../src/cli/program.ts'

/** Exit code and output of one CLI invocation (argv without `lattice`). */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        f(String(chunk))
        cb()
      },
    })
  const io: CliIO = { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), isTTY: false }
  let code = 0
  const program = buildProgram(await loadCommands(), io, (c) => (code = c))
  program.exitOverride()
  try {
    await program.parseAsync(['node', 'lattice', ...argv])
  } catch (e) {
    err += (e as Error).message
    code = 1
  }
  return { code, out, err }
}

/** Run one command object directly (no argument parsing), capturing stdout; stderr is dropped. */
export async function runCommand(
  cmd: CliCommand,
  opts: Record<string, unknown>,
): Promise<{ code: number; stdout: string }> {
  let stdout = ''
  const io: CliIO = {
    stdout: new Writable({
      write(c, _e, cb) {
        stdout += String(c)
        cb()
      },
    }),
    stderr: new Writable({ write: (_c, _e, cb) => cb() }),
    isTTY: false,
  }
  const code = (await cmd.run([], opts, io)) ?? 0
  return { code, stdout }
}
