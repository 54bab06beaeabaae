// eth_* methods that tooling calls beyond the core namespace: eth_getAccount (reth/geth), eth_getUncleBy*
// (always null after the merge), eth_sendRawTransactionSync (EIP-7966: send and wait for the receipt).
import { bytesToHex } from '@ethereumjs/util'
import type { LatticeNode } from '../chain/node.ts'
import { resolveBlockOrThrow } from './blocks.ts'
import { address, blockRef, data, formatReceipts, hash, paramList, q, quantity } from './codec.ts'
import { invalidParams, RpcError } from './errors.ts'
import type { Handlers } from './types.ts'

/** EIP-7966's error code when the receipt is not ready within the timeout; `data` is the transaction hash. */
export const SYNC_TIMEOUT_CODE = 4
/** How long eth_sendRawTransactionSync waits when the caller names no timeout, and at most (ms). */
export const SYNC_DEFAULT_TIMEOUT_MS = 2_000
export const SYNC_MAX_TIMEOUT_MS = 60_000
/** The same bound eth_sendRawTransaction applies (eth.ts). */
const MAX_RAW_TX_BYTES = 1024 * 1024

/** eth_getAccount, eth_getUncleBy*, eth_sendRawTransactionSync. */
export function ethToolingMethods(node: LatticeNode): Handlers {
  const chain = node.chain

  /** The formatted receipt of a canonical transaction, or undefined. */
  async function receiptOf(txHash: Uint8Array): Promise<unknown> {
    const loc = await chain.getTransaction(txHash)
    if (!loc) return undefined
    return formatReceipts(loc.block, await chain.getReceipts(loc.block.hash()))[loc.index]
  }

  return {
    eth_getAccount: async (p) => {
      const [a, b] = paramList(p, 'eth_getAccount', 2, 2)
      const addr = address(a, 'address')
      const block = await resolveBlockOrThrow(chain, blockRef(b, 'block'))
      const acct = await (await chain.stateAt(block)).getAccount(addr)
      if (!acct) return null
      return {
        codeHash: bytesToHex(acct.codeHash),
        storageRoot: bytesToHex(acct.storageRoot),
        balance: q(acct.balance),
        nonce: q(acct.nonce),
      }
    },
    eth_getUncleByBlockHashAndIndex: async (p) => {
      const [h, i] = paramList(p, 'eth_getUncleByBlockHashAndIndex', 2, 2)
      hash(h, 'block hash')
      quantity(i, 'index')
      return null
    },
    eth_getUncleByBlockNumberAndIndex: async (p) => {
      const [b, i] = paramList(p, 'eth_getUncleByBlockNumberAndIndex', 2, 2)
      blockRef(b, 'block')
      quantity(i, 'index')
      return null
    },
    eth_sendRawTransactionSync: async (p) => {
      const [raw, t] = paramList(p, 'eth_sendRawTransactionSync', 1, 2)
      const bytes = data(raw, 'transaction')
      if (bytes.length > MAX_RAW_TX_BYTES) throw new RpcError(-32000, 'oversized data: transaction too large')
      let timeoutMs = SYNC_DEFAULT_TIMEOUT_MS
      if (t !== undefined && t !== null) {
        if (typeof t !== 'number' || !Number.isSafeInteger(t) || t <= 0) {
          throw invalidParams('invalid argument timeout: expected a positive number of milliseconds')
        }
        timeoutMs = Math.min(t, SYNC_MAX_TIMEOUT_MS)
      }
      // listen before sending: an automined block is announced before sendRawTransaction returns
      let wake: () => void = () => {}
      const onBlock = () => wake()
      node.on('block', onBlock)
      try {
        const txHash = await node.sendRawTransaction(bytes)
        const deadline = Date.now() + timeoutMs
        for (;;) {
          const receipt = await receiptOf(txHash)
          if (receipt) return receipt
          const left = deadline - Date.now()
          if (left <= 0) {
            throw new RpcError(
              SYNC_TIMEOUT_CODE,
              `the transaction was added to the pool but was not mined within ${timeoutMs} ms`,
              bytesToHex(txHash),
            )
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left)
            wake = () => {
              clearTimeout(timer)
              resolve()
            }
          })
        }
      } finally {
        node.off('block', onBlock)
      }
    },
  }
}
