// geth's Engine API flags for `lattice node`: --authrpc.addr, --authrpc.port, --authrpc.jwtsecret. Any of them turns
// the Engine API on (port 8551 unless given); without them the node serves no Engine API and mines as before.
import type { CliOption } from './command.ts'
import { CliFlagError } from './errors.ts'
import type { AuthRpcOpts } from './node.ts'

/** The flags, for a command's `options`. */
export const AUTHRPC_OPTIONS: CliOption[] = [
  {
    flags: '--authrpc.port <port>',
    description:
      'serve the Engine API (for a consensus client) on this port; the node then makes no blocks itself (default 8551 when any --authrpc flag is given)',
  },
  { flags: '--authrpc.addr <host>', description: 'interface the Engine API listens on (default 127.0.0.1)' },
  {
    flags: '--authrpc.jwtsecret <file>',
    description:
      'JWT secret file shared with the consensus client: 32 bytes as hex, created when missing (default <datadir>/jwtsecret)',
  },
]

/** Read the flags from commander's options (keys keep their dots); undefined when none is given. */
export function parseAuthRpcFlags(opts: Record<string, unknown>): AuthRpcOpts | undefined {
  const port = opts['authrpc.port']
  const host = opts['authrpc.addr']
  const secret = opts['authrpc.jwtsecret']
  if (port === undefined && host === undefined && secret === undefined) return undefined
  const p = port === undefined ? 8551 : Number(port)
  if (!Number.isInteger(p) || p < 0 || p > 65535) {
    throw new CliFlagError(
      `--authrpc.port ${String(port)} is not a port number. Pass an integer from 0 to 65535, e.g. 8551.`,
    )
  }
  return {
    port: p,
    host: host === undefined ? '127.0.0.1' : String(host),
    jwtSecretPath: secret === undefined ? undefined : String(secret),
  }
}
