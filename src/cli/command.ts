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
