import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import {
  createBlob4844TxFromSerializedNetworkWrapper,
  createTx,
  createTxFromRLP,
  TransactionType,
} from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { bytesToBigInt } from '@ethereumjs/util'
import type { DevAccount } from './accounts.ts'
import type { CallRequest } from './calls.ts'
import type { Chain } from './chain.ts'
import { TX_GAS_CAP } from './chain.ts'
import { shortEjsMessage } from './ejs-message.ts'
import { TxRejectedError, txErrors } from './errors.ts'
import type { TxPool } from './txpool.ts'
import { feeCap } from './txpool.ts'

/** Decode a raw transaction (eth_sendRawTransaction) with geth's rejection reasons. */
export function decodeRawTx(chain: Chain, raw: Uint8Array): TypedTransaction {
  if (raw.length === 0) throw txErrors.invalidSignature('empty transaction')
  if (raw[0] === TransactionType.BlobEIP4844) {
    // blob transactions travel with their sidecar (EIP-4844 network form); its KZG proofs are checked here
    try {
      return createBlob4844TxFromSerializedNetworkWrapper(raw, { common: chain.common })
    } catch (err) {
      throw txErrors.invalidSignature(`cannot decode blob transaction: ${shortEjsMessage(err)}`)
    }
  }
  const chainId = rawChainId(raw)
  if (chainId !== undefined && chainId !== chain.chainId) throw txErrors.wrongChainId(chainId, chain.chainId)
  try {
    return createTxFromRLP(raw, { common: chain.common })
  } catch (err) {
    const msg = shortEjsMessage(err)
    const cap = /gas limit (\d+) exceeds the maximum allowed by EIP-7825/.exec(msg)
    if (cap) throw txErrors.gasCapTooHigh(BigInt(cap[1]), TX_GAS_CAP)
    throw txErrors.invalidSignature(`cannot decode transaction: ${msg}`)
  }
}

/** The unlocked dev account that is to sign for `from` (eth_sendTransaction). */
export function devSigner(devAccounts: DevAccount[], from: Address | undefined): DevAccount {
  const account = from && devAccounts.find((a) => a.address.equals(from))
  if (!account) {
    throw new TxRejectedError(
      'UNKNOWN_ACCOUNT',
      `unknown account ${from?.toString() ?? '(none)'}: not an unlocked dev account`,
    )
  }
  return account
}

/**
 * The transaction eth_sendTransaction signs: legacy/2930 when a gas price is named, else 1559 with a
 * 1 gwei tip and twice the next base fee.
 */
export function devTx(
  chain: Chain,
  req: CallRequest,
  fill: { nonce: bigint; gasLimit: bigint; baseFee: bigint },
): TypedTransaction {
  const { nonce, gasLimit, baseFee } = fill
  const common = chain.common
  const base = {
    nonce,
    gasLimit,
    to: req.to,
    value: req.value ?? 0n,
    data: req.data ?? new Uint8Array(),
    chainId: chain.chainId,
  }
  if (req.authorizationList) {
    // EIP-7702: a 1559-priced type-4 transaction
    const tip = req.maxPriorityFeePerGas ?? 1_000_000_000n
    return createTx(
      {
        ...base,
        type: 4,
        maxPriorityFeePerGas: tip,
        maxFeePerGas: req.maxFeePerGas ?? req.gasPrice ?? baseFee * 2n + tip,
        accessList: req.accessList,
        authorizationList: req.authorizationList,
      },
      { common },
    )
  }
  return req.gasPrice !== undefined
    ? createTx(
        { ...base, type: req.accessList ? 1 : 0, gasPrice: req.gasPrice, accessList: req.accessList },
        { common },
      )
    : createTx(
        {
          ...base,
          type: 2,
          maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? 1_000_000_000n,
          maxFeePerGas: req.maxFeePerGas ?? baseFee * 2n + (req.maxPriorityFeePerGas ?? 1_000_000_000n),
          accessList: req.accessList,
        },
        { common },
      )
}

/**
 * Validate a signed transaction against the head (signature, intrinsic gas, gas limits, fee cap against
 * `baseFee`) and add it to the pool. Returns its sender.
 */
export async function admitTx(chain: Chain, pool: TxPool, tx: TypedTransaction, baseFee: bigint): Promise<string> {
  if (!tx.isSigned()) throw txErrors.invalidSignature('transaction is not signed')
  let senderAddr: Address
  let valid: boolean
  try {
    valid = tx.verifySignature()
    senderAddr = tx.getSenderAddress()
  } catch (err) {
    throw txErrors.invalidSignature(shortEjsMessage(err))
  }
  if (!valid) throw txErrors.invalidSignature('invalid signature')
  const intrinsic = tx.getIntrinsicGas()
  if (tx.gasLimit < intrinsic) throw txErrors.intrinsicGas(tx.gasLimit, intrinsic)
  if (tx.gasLimit > chain.head.header.gasLimit) throw txErrors.gasLimitTooHigh(tx.gasLimit, chain.head.header.gasLimit)
  if (tx.gasLimit > TX_GAS_CAP) throw txErrors.gasCapTooHigh(tx.gasLimit, TX_GAS_CAP)
  if (feeCap(tx) < baseFee) {
    throw txErrors.underpriced(`max fee per gas ${feeCap(tx)} is below the next block's base fee ${baseFee}`)
  }
  const sender = senderAddr.toString()
  await chain.exclusive(async () => {
    const acct = await chain.stateManager.getAccount(senderAddr)
    pool.add(tx, sender, { nonce: acct?.nonce ?? 0n, balance: acct?.balance ?? 0n })
  })
  return sender
}

/** The chain id a raw transaction is signed for, read from its RLP before full decoding (undefined if none). */
function rawChainId(raw: Uint8Array): bigint | undefined {
  try {
    if (raw[0] >= 0xc0) {
      const v = bytesToBigInt(RLP.decode(raw)[6] as Uint8Array)
      return v >= 35n ? (v - 35n) / 2n : undefined
    }
    if (raw[0] >= 1 && raw[0] <= 4) return bytesToBigInt(RLP.decode(raw.subarray(1))[0] as Uint8Array)
  } catch {
    // malformed: the decoder reports it
  }
  return undefined
}
