// Transactions from impersonated accounts (anvil_impersonateAccount): signed by no key. As anvil does, such a
// transaction carries a placeholder signature (r = s = 1) and the node remembers its sender by hash, because
// recovering the signature would name another address (or none).
import type { TypedTransaction } from '@ethereumjs/tx'
import { createTx, TransactionType } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { bytesToHex } from '@ethereumjs/util'
import type { Chain } from './chain.ts'

/** Senders of impersonated transactions by hash (a devnet keeps them for its lifetime, as anvil does). */
const senders = new Map<string, Address>()

/** `tx` (unsigned) with the placeholder signature, sent as `from` without a key. */
export function impersonatedTx(chain: Chain, tx: TypedTransaction, from: Address): TypedTransaction {
  const json = tx.toJSON() as Record<string, unknown>
  const legacy = tx.type === TransactionType.Legacy
  const signed = createTx(
    { ...json, type: tx.type, v: legacy ? chain.chainId * 2n + 35n : 0n, r: 1n, s: 1n },
    { common: chain.common, freeze: false },
  )
  ;(signed as { getSenderAddress: () => Address }).getSenderAddress = () => from
  ;(signed as { verifySignature: () => boolean }).verifySignature = () => true
  Object.freeze(signed)
  senders.set(bytesToHex(signed.hash()), from)
  return signed
}

/** The sender of a transaction, impersonated or signed. */
export function senderOf(tx: TypedTransaction): Address {
  return senders.get(bytesToHex(tx.hash())) ?? tx.getSenderAddress()
}
