// geth's RPC execution flags, shared by `lattice devnet` and `lattice node`.
import type { CallLimitOpts } from '../chain/call-limits.ts'
import { DEFAULT_RPC_EVM_TIMEOUT_MS, DEFAULT_RPC_GAS_CAP } from '../chain/call-limits.ts'
import type { CliOption } from './command.ts'
import { CliFlagError } from './errors.ts'

/** `--rpc.gascap` and `--rpc.evmtimeout`, with geth's defaults. */
export const RPC_LIMIT_OPTIONS: CliOption[] = [
  {
    flags: '--rpc.gascap <gas>',
    description: 'most gas an eth_call or eth_estimateGas may use (0 = no cap)',
    default: String(DEFAULT_RPC_GAS_CAP),
  },
  {
    flags: '--rpc.evmtimeout <duration>',
    description: 'time limit of eth_call, eth_estimateGas, eth_simulateV1, lattice_infer, e.g. 5s, 500ms (0 = none)',
    default: `${DEFAULT_RPC_EVM_TIMEOUT_MS / 1000}s`,
  },
]

/** Read `--rpc.gascap` / `--rpc.evmtimeout` from commander's options (keys keep their dots). */
export function parseRpcLimitFlags(opts: Record<string, unknown>): CallLimitOpts {
  const gas = String(opts['rpc.gascap'] ?? DEFAULT_RPC_GAS_CAP)
  if (!/^\d+$/.test(gas)) throw new CliFlagError(`--rpc.gascap ${gas} is not an amount of gas. Pass e.g. 50000000.`)
  const timeout = String(opts['rpc.evmtimeout'] ?? `${DEFAULT_RPC_EVM_TIMEOUT_MS}ms`)
  return { gasCap: BigInt(gas), timeoutMs: parseDuration(timeout) }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A Go-style duration (`5s`, `1.5s`, `300ms`, `1m30s`; a bare `0`) in milliseconds. */
export function parseDuration(text: string): number {
  if (text === '0') return 0
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new CliFlagError(`--rpc.evmtimeout ${text} is not a duration. Pass e.g. 5s, 500ms or 0 for none.`)
  }
  return Math.round(parts.reduce((ms, p) => ms + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0))
}
