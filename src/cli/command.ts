import type { Writable } from 'node:stream'

/** One option of a CLI command, in commander's flag syntax (`--port <n>`, `--json`). */
export interface CliOption {
  flags: string
  description: string
  default?: string | boolean | string[]
  /** Repeatable (`--input a --input b`) options collect into an array. */
  repeatable?: boolean
}

/** Where a command writes; only the CLI prints. */
export interface CliIO {
  stdout: Writable
  stderr: Writable
  /** Whether stdout is a terminal (progress bars only then). */
  isTTY: boolean
  /** `--json` was given: stdout gets exactly one JSON document (set by the runner, src/cli/program.ts). */
  json?: boolean
}

/** One CLI command: `name` may be nested with spaces ("ipfs add", "model deploy"). */
export interface CliCommand {
  name: string
  description: string
  /** Positional arguments in commander syntax, e.g. `<file>` or `[cid]`. */
  arguments?: string[]
  options: CliOption[]
  /** Returns the process exit code (0 when omitted). Long-running commands resolve when they stop. */
  run(args: string[], opts: Record<string, any>, io: CliIO): Promise<number | undefined>
}

/** Print a command's result: one JSON document with `--json`, else its text (a final newline is added). */
export function printResult(io: CliIO, result: unknown, text: string): void {
  if (io.json) io.stdout.write(`${JSON.stringify(result, jsonValue, 2)}\n`)
  else io.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
}

/** The JSON error document of `--json`: `{"error":{"code","message"[,"details"]}}`, on stdout like every result. */
export function printError(io: CliIO, code: string, message: string, details?: string): void {
  io.stdout.write(`${JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }, null, 2)}\n`)
}

/** bigints as decimal strings: JSON has no integer wider than 2^53. */
function jsonValue(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v
}
