import type { TypedTransaction } from '@ethereumjs/tx'
import { createTxFromRLP } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { buildBlock } from '@ethereumjs/vm'
import { assertCheckpointDepth } from '../chain/checkpoints.ts'
import { applyInferenceRoot } from '../chain/inference-roots.ts'
import type { LatticeNode } from '../chain/node.ts'
import { shortEjsMessage } from '../chain/node.ts'
import { sandboxVM } from '../chain/sandbox.ts'
import { address, data, hash, paramList, q, quantity } from './codec.ts'
import { invalidParams, RpcCode, RpcError } from './errors.ts'
import type { Handlers } from './types.ts'

/** geth's default gas ceiling for blocks it builds (miner.gaslimit). */
const GAS_CEIL = 60_000_000n

/** geth's CalcGasLimit: move from the parent's limit toward `desired` by at most parent/1024 - 1. */
export function calcGasLimit(parent: bigint, desired: bigint): bigint {
  const delta = parent / 1024n - 1n
  if (parent < desired) return parent + delta < desired ? parent + delta : desired
  if (parent > desired) return parent - delta > desired ? parent - delta : desired
  return parent
}

/** testing_* methods: build a block on a given parent without importing it (geth's testing API). */
export function testingMethods(node: LatticeNode): Handlers {
  const chain = node.chain
  return {
    testing_buildBlockV1: async (p) => {
      const [ph, attrs, txList, extra] = paramList(p, 'testing_buildBlockV1', 2, 4)
      const parent = await chain.getBlockByHash(hash(ph, 'parentHash'))
      if (!parent) throw new RpcError(RpcCode.server, 'unknown parent block')
      if (typeof attrs !== 'object' || attrs === null)
        throw invalidParams('invalid argument 1: expected payload attributes')
      const a = attrs as Record<string, unknown>
      const timestamp = quantity(a.timestamp, 'timestamp')
      const common = chain.common.copy()
      common.setHardforkBy({ blockNumber: parent.header.number + 1n, timestamp })
      let txs: TypedTransaction[]
      if (txList === null || txList === undefined) {
        const nonces = await node.poolNonces()
        txs = node.pool.pending((s) => nonces.get(s) ?? 0n, parent.header.calcNextBaseFee())
      } else {
        if (!Array.isArray(txList)) throw invalidParams('invalid argument 2: expected an array of raw transactions')
        txs = txList.map((raw, i) => {
          try {
            return createTxFromRLP(data(raw, `transactions[${i}]`), { common })
          } catch (err) {
            throw invalidParams(`invalid argument 2: transaction ${i}: ${shortEjsMessage(err)}`)
          }
        })
      }
      const withdrawals = Array.isArray(a.withdrawals)
        ? (a.withdrawals as Record<string, unknown>[]).map((w) => ({
            index: quantity(w.index, 'withdrawal.index'),
            validatorIndex: quantity(w.validatorIndex, 'withdrawal.validatorIndex'),
            address: address(w.address, 'withdrawal.address'),
            amount: quantity(w.amount, 'withdrawal.amount'),
          }))
        : undefined
      const vm = await sandboxVM(chain, parent, common)
      const builder = await buildBlock(vm, {
        parentBlock: parent,
        headerData: {
          number: parent.header.number + 1n,
          timestamp,
          gasLimit: calcGasLimit(parent.header.gasLimit, GAS_CEIL),
          coinbase: a.suggestedFeeRecipient ? address(a.suggestedFeeRecipient, 'suggestedFeeRecipient') : undefined,
          mixHash: a.prevRandao ? hash(a.prevRandao, 'prevRandao') : undefined,
          parentBeaconBlockRoot: a.parentBeaconBlockRoot
            ? hash(a.parentBeaconBlockRoot, 'parentBeaconBlockRoot')
            : undefined,
          extraData: extra ? data(extra, 'extraData') : new Uint8Array(),
        },
        withdrawals,
        blockOpts: { putBlockIntoBlockchain: false, common },
      })
      // the inference-root system call every Lattice block starts with (docs/proofs.md)
      await applyInferenceRoot(vm, parent.header.number, await chain.inferenceRootOf(parent))
      let value = 0n
      for (const tx of txs) {
        try {
          const r = await builder.addTransaction(tx, { allowNoBlobs: true })
          value += r.minerValue
        } catch (err) {
          if (txList === null || txList === undefined) continue
          throw new RpcError(RpcCode.server, shortEjsMessage(err))
        }
      }
      const { block, requests } = await builder.build()
      await assertCheckpointDepth(vm, 'testing_buildBlockV1')
      const h = block.header
      return {
        executionPayload: {
          parentHash: bytesToHex(h.parentHash),
          feeRecipient: h.coinbase.toString(),
          stateRoot: bytesToHex(h.stateRoot),
          receiptsRoot: bytesToHex(h.receiptTrie),
          logsBloom: bytesToHex(h.logsBloom),
          prevRandao: bytesToHex(h.mixHash),
          blockNumber: q(h.number),
          gasLimit: q(h.gasLimit),
          gasUsed: q(h.gasUsed),
          timestamp: q(h.timestamp),
          extraData: bytesToHex(h.extraData),
          baseFeePerGas: q(h.baseFeePerGas ?? 0n),
          blockHash: bytesToHex(block.hash()),
          transactions: block.transactions.map((tx) => bytesToHex(tx.serialize())),
          withdrawals: (block.withdrawals ?? []).map((w) => {
            const j = w.toJSON()
            return { index: j.index, validatorIndex: j.validatorIndex, address: j.address, amount: j.amount }
          }),
          blobGasUsed: q(h.blobGasUsed ?? 0n),
          excessBlobGas: q(h.excessBlobGas ?? 0n),
        },
        blockValue: q(value),
        blobsBundle: { commitments: [], proofs: [], blobs: [] },
        executionRequests: (requests ?? []).filter((r) => r.data.length > 0).map((r) => bytesToHex(r.bytes)),
        shouldOverrideBuilder: false,
      }
    },
  }
}
