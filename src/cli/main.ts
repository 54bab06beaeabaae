import '../polyfills.ts'
import { CommanderError } from 'commander'
import type { CliIO } from './command.ts'
import { loadCommands } from './commands.ts'
import { buildProgram, jsonRequested, reportError } from './program.ts'

// The `lattice` entry point (bin/lattice.js): parse process.argv and set the exit code. The program itself is
// built in program.ts, so tests can run it in-process without running this file.
async function main(): Promise<void> {
  const io: CliIO = { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stdout.isTTY) }
  const program = buildProgram(await loadCommands(), io, (code) => {
    process.exitCode = code
  })
  program.exitOverride()
  try {
    await program.parseAsync(process.argv)
  } catch (err) {
    // already printed by commander (or by the runner's error output with --json)
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode
      return
    }
    reportError(err, { ...io, json: jsonRequested(process.argv.slice(2)) })
    process.exitCode = 1
  }
}

await main()
