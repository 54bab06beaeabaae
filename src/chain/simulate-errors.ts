import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { toChecksumAddress } from '@ethereumjs/util'
import { SimulateError } from './errors.ts'

/** eth_simulateV1's error codes (geth's). */
export const SimCode = {
  nonceTooLow: -38010,
  nonceTooHigh: -38011,
  feeTooLow: -38012,
  intrinsicGas: -38013,
  insufficientFunds: -38014,
  gasLimitReached: -38015,
  blockNumberOrder: -38020,
  blockTimestampOrder: -38021,
  precompileSelfRef: -38022,
  precompileTwice: -38023,
  tooManyBlocks: -38026,
  reverted: 3,
  vmError: -32015,
  invalidParams: -32602,
  internal: -32603,
  server: -32000,
} as const

/** Map an ethereumjs transaction rejection to geth's simulate error code. */
export function txError(err: unknown, from: Address, tx: TypedTransaction): SimulateError {
  const msg = String((err as Error)?.message ?? err).split(/ \(tx type| block number=| hash=| \(vm hf=/)[0]
  // ethereumjs words these differently from geth; clients match geth's text, so it is rebuilt from the numbers
  const sender = toChecksumAddress(from.toString())
  const nonce = /account has nonce of: (\d+) tx has nonce of: (\d+)/.exec(msg)
  if (nonce) {
    const [state, mine] = [BigInt(nonce[1]), BigInt(nonce[2])]
    return mine > state
      ? new SimulateError(SimCode.nonceTooHigh, `err: nonce too high: address ${sender}, tx: ${mine} state: ${state}`)
      : new SimulateError(SimCode.nonceTooLow, `err: nonce too low: address ${sender}, tx: ${mine} state: ${state}`)
  }
  // ethereumjs names the cost at the effective gas price; geth's balance check (buyGas) uses the fee cap
  const funds = /(?:upfront|max) cost is: (\d+) and the sender's account \(0x[0-9a-fA-F]+\) only has: (\d+)/.exec(msg)
  if (funds) {
    return new SimulateError(
      SimCode.insufficientFunds,
      `err: insufficient funds for gas * price + value: address ${sender} have ${funds[2]} want ${balanceCheck(tx)}`,
    )
  }
  const code = /nonce (is )?too high|nonce too high/i.test(msg)
    ? SimCode.nonceTooHigh
    : /nonce exceeds|nonce has max/i.test(msg)
      ? SimCode.internal
      : /correct nonce|nonce too low/i.test(msg)
        ? SimCode.nonceTooLow
        : /baseFeePerGas|base fee|maxFeePerGas.*less|fee cap/i.test(msg)
          ? SimCode.feeTooLow
          : /gasLimit is too low|intrinsic/i.test(msg)
            ? SimCode.intrinsicGas
            : /enough funds|insufficient funds|upfront cost/i.test(msg)
              ? SimCode.insufficientFunds
              : SimCode.internal
  return new SimulateError(code, `err: ${msg}`)
}

/** What geth's buyGas wants the sender to hold: gas × fee cap + value (+ blob gas × blob fee cap). */
function balanceCheck(tx: TypedTransaction): bigint {
  const t = tx as TypedTransaction & { maxFeePerGas?: bigint; gasPrice?: bigint; maxFeePerBlobGas?: bigint }
  let want = tx.gasLimit * (t.maxFeePerGas ?? t.gasPrice ?? 0n) + tx.value
  if ('blobVersionedHashes' in tx && t.maxFeePerBlobGas !== undefined) {
    want += BigInt((tx.blobVersionedHashes as string[]).length) * tx.common.param('blobGasPerBlob') * t.maxFeePerBlobGas
  }
  return want
}
