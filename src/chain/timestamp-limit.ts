// The latest block timestamp this chain can carry. The header format allows a uint64, but ethereumjs' fork
// schedule lookup (Common.getHardforkBy) compares timestamps as JS numbers: past 2^53 a timestamp that rounds
// down is taken to be before its own fork and every later block fails with "Maximum HF determined by block
// number is lower than timestamp HF". Refusing such timestamps up front keeps the chain able to mine.
import { TimestampError } from './errors.ts'

/** 2^53 − 1 seconds (year ~285 million): the largest timestamp both the header and the fork lookup take exactly. */
export const MAX_BLOCK_TIMESTAMP = BigInt(Number.MAX_SAFE_INTEGER)

/** Throw {@link TimestampError} (JSON-RPC -32602) when `ts`, named `what`, is past {@link MAX_BLOCK_TIMESTAMP}. */
export function checkBlockTimestamp(ts: bigint, what: string): void {
  if (ts > MAX_BLOCK_TIMESTAMP) {
    throw new TimestampError(
      `${what} ${ts} is past the largest block timestamp this chain can carry (${MAX_BLOCK_TIMESTAMP})`,
    )
  }
}
