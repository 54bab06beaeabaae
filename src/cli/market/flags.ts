// Flags and printing the market commands share: `--key`/`--rpc` (the short names the accelerated-inference docs
// use) beside the model commands' `--private-key`/`--rpc-url`, and one line per event for the long-running ones.
import type { CliIO, CliOption } from '../command.ts'
import { CliFlagError } from '../errors.ts'
import { CONNECTION_OPTIONS, SIGNER_OPTIONS } from '../model-client.ts'

/** Connection and signer flags of the market commands. */
export const MARKET_OPTIONS: CliOption[] = [
  { flags: '--key <hex>', description: 'sign with this private key (same as --private-key)' },
  { flags: '--rpc <url>', description: 'node JSON-RPC URL (same as --rpc-url)' },
  ...CONNECTION_OPTIONS,
  ...SIGNER_OPTIONS,
]

/** `--key` and `--rpc` folded into the names the model client reads. */
export function marketOpts(opts: Record<string, any>): Record<string, any> {
  if (opts.key !== undefined && opts.privateKey !== undefined && opts.key !== opts.privateKey)
    throw new CliFlagError('Pass either --key or --private-key, not both.')
  if (opts.rpc !== undefined && opts.rpcUrl !== undefined && opts.rpc !== opts.rpcUrl)
    throw new CliFlagError('Pass either --rpc or --rpc-url, not both.')
  return { ...opts, privateKey: opts.privateKey ?? opts.key, rpcUrl: opts.rpcUrl ?? opts.rpc }
}

/** A `--poll-ms` value (default 500). */
export function pollFlag(v: unknown): number {
  if (v === undefined) return 500
  const n = Number(v)
  if (!Number.isInteger(n) || n < 10 || n > 600_000)
    throw new CliFlagError(`--poll-ms "${String(v)}" is not a poll interval. Pass milliseconds from 10 to 600000.`)
  return n
}

/** A `--from-block` value, or undefined. */
export function blockFlag(v: unknown, flag = '--from-block'): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v))
    throw new CliFlagError(`${flag} "${String(v)}" is not a block number. Pass a decimal block number.`)
  return Number(v)
}

/** Print one event: a compact JSON line with --json (one document per line), else `time event key=value ...`. */
export function eventPrinter(io: CliIO, json: boolean): (e: { event: string } & Record<string, unknown>) => void {
  return (e) => {
    const line = { time: new Date().toISOString(), ...e }
    if (json) {
      io.stdout.write(`${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`)
      return
    }
    const rest = Object.entries(e)
      .filter(([k, v]) => k !== 'event' && v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')
    io.stdout.write(`${line.time} ${e.event}${rest ? ` ${rest}` : ''}\n`)
  }
}
