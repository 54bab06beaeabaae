// Transactions from impersonated accounts (anvil_impersonateAccount): signed by no key. As anvil does, such a
// transaction carries a placeholder signature (r = s = 1) and the node remembers its sender by hash, because
// recovering the signature would name another address (or none).
import { Block } from '@ethereumjs/block'
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
  const signed = asSender(
    { ...json, type: tx.type, v: legacy ? chain.chainId * 2n + 35n : 0n, r: 1n, s: 1n },
    chain.common,
    from,
  )
  senders.set(bytesToHex(signed.hash()), from)
  return signed
}

/** A transaction from `data` that ethereumjs runs as sent by `from`, whatever its signature recovers to. */
function asSender(data: Record<string, unknown>, common: TypedTransaction['common'], from: Address): TypedTransaction {
  const tx = createTx(data, { common, freeze: false })
  ;(tx as { getSenderAddress: () => Address }).getSenderAddress = () => from
  ;(tx as { verifySignature: () => boolean }).verifySignature = () => true
  Object.freeze(tx)
  return tx
}

/**
 * `block` as it executed: its impersonated transactions run as their senders again (re-execution for traces; a
 * block read back from the database has only the placeholder signatures). The same block when it has none.
 */
export function withImpersonatedSenders(block: Block): Block {
  if (!block.transactions.some((tx) => senders.has(bytesToHex(tx.hash())))) return block
  const txs = block.transactions.map((tx) => {
    const from = senders.get(bytesToHex(tx.hash()))
    return from ? asSender({ ...(tx.toJSON() as Record<string, unknown>), type: tx.type }, tx.common, from) : tx
  })
  return new Block(block.header, txs, block.uncleHeaders, block.withdrawals, { common: block.common })
}

/** The sender of a transaction, impersonated or signed. */
export function senderOf(tx: TypedTransaction): Address {
  return senders.get(bytesToHex(tx.hash())) ?? tx.getSenderAddress()
}
