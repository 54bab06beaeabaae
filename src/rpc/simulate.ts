import { bytesToHex } from '@ethereumjs/util'
import { SimulateError } from '../chain/errors.ts'
import type { LatticeNode } from '../chain/node.ts'
import type { SimAccountOverride, SimBlockOverrides, SimBlockSpec, SimCall } from '../chain/simulate.ts'
import { simulate } from '../chain/simulate.ts'
import { resolveBlockOrThrow } from './blocks.ts'
import {
  address,
  blockRef,
  bool,
  callRequest,
  formatBlock,
  formatTx,
  hash,
  paramList,
  q,
  quantity,
  stateOverrides,
} from './codec.ts'
import { invalidParams, RpcError } from './errors.ts'
import type { Handlers } from './types.ts'

function obj(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidParams(`invalid argument ${name}: expected an object`)
  return v as Record<string, unknown>
}

function blockOverrides(v: unknown, name: string): SimBlockOverrides | undefined {
  if (v === undefined || v === null) return undefined
  const o = obj(v, name)
  const opt = <T>(k: string, f: (x: unknown, n: string) => T): T | undefined =>
    o[k] === undefined || o[k] === null ? undefined : f(o[k], `${name}.${k}`)
  return {
    number: opt('number', quantity),
    time: opt('time', quantity),
    gasLimit: opt('gasLimit', quantity),
    feeRecipient: opt('feeRecipient', address),
    prevRandao: opt('prevRandao', hash),
    baseFeePerGas: opt('baseFeePerGas', quantity),
    blobBaseFee: opt('blobBaseFee', quantity),
    beaconRoot: opt('beaconRoot', hash),
  }
}

function simStateOverrides(v: unknown, name: string): Map<string, SimAccountOverride> | undefined {
  if (v === undefined || v === null) return undefined
  const raw = obj(v, name)
  const moves = new Map<string, unknown>()
  const rest: Record<string, unknown> = {}
  for (const [k, o] of Object.entries(raw)) {
    const { movePrecompileToAddress, ...others } = (o ?? {}) as Record<string, unknown>
    if (movePrecompileToAddress !== undefined && movePrecompileToAddress !== null) moves.set(k, movePrecompileToAddress)
    rest[k] = others
  }
  const out = (stateOverrides(rest, name) ?? new Map()) as Map<string, SimAccountOverride>
  for (const [k, dest] of moves) {
    const key = address(k, `${name} key`).toString()
    const entry = out.get(key) ?? {}
    entry.movePrecompileToAddress = address(dest, `${name}.${k}.movePrecompileToAddress`)
    out.set(key, entry)
  }
  return out
}

function simCall(v: unknown, name: string): SimCall {
  const o = obj(v, name)
  const c: SimCall = callRequest(o, name)
  if (o.maxFeePerBlobGas !== undefined && o.maxFeePerBlobGas !== null)
    c.maxFeePerBlobGas = quantity(o.maxFeePerBlobGas, `${name}.maxFeePerBlobGas`)
  if (Array.isArray(o.blobVersionedHashes)) {
    c.blobVersionedHashes = o.blobVersionedHashes.map((h, i) =>
      bytesToHex(hash(h, `${name}.blobVersionedHashes[${i}]`)),
    )
  }
  return c
}

/** eth_simulateV1: run calls in a chain of simulated blocks with state and block overrides. */
export function simulateMethods(node: LatticeNode): Handlers {
  const chain = node.chain
  return {
    eth_simulateV1: async (p) => {
      const [rawOpts, b] = paramList(p, 'eth_simulateV1', 1, 2)
      const opts = obj(rawOpts, '0')
      if (!Array.isArray(opts.blockStateCalls))
        throw invalidParams('invalid argument 0: blockStateCalls must be an array')
      if (opts.blockStateCalls.length === 0) throw invalidParams('empty input')
      const flag = (k: string) => (opts[k] === undefined || opts[k] === null ? false : bool(opts[k], k))
      const blocks: SimBlockSpec[] = opts.blockStateCalls.map((raw, i) => {
        const bsc = obj(raw, `blockStateCalls[${i}]`)
        const calls = bsc.calls === undefined || bsc.calls === null ? [] : bsc.calls
        if (!Array.isArray(calls))
          throw invalidParams(`invalid argument blockStateCalls[${i}].calls: expected an array`)
        return {
          blockOverrides: blockOverrides(bsc.blockOverrides, `blockStateCalls[${i}].blockOverrides`),
          stateOverrides: simStateOverrides(bsc.stateOverrides, `blockStateCalls[${i}].stateOverrides`),
          calls: calls.map((c, j) => simCall(c, `blockStateCalls[${i}].calls[${j}]`)),
        }
      })
      const base = await resolveBlockOrThrow(chain, blockRef(b, 'block'))
      const fullTx = flag('returnFullTransactions')
      let results: Awaited<ReturnType<typeof simulate>>
      try {
        results = await simulate(chain, base, {
          blocks,
          validation: flag('validation'),
          traceTransfers: flag('traceTransfers'),
        })
      } catch (err) {
        if (err instanceof SimulateError) throw new RpcError(err.rpcCode, err.shortMessage)
        throw err
      }
      return results.map((r) => {
        const block = r.block
        const out = formatBlock(block, false)
        out.size = q(r.size)
        out.transactions = fullTx
          ? r.txs.map((tx, i) => formatTx(tx, block, i))
          : r.txs.map((tx) => bytesToHex(tx.hash()))
        const blockHash = bytesToHex(block.hash())
        out.calls = r.calls.map((c, i) => {
          const txHash = bytesToHex(r.txs[i].hash())
          const res: Record<string, unknown> = {
            returnData: bytesToHex(c.returnData),
            logs: c.logs.map((l) => ({
              address: bytesToHex(l.address),
              topics: l.topics.map((t) => bytesToHex(t)),
              data: bytesToHex(l.data),
              blockNumber: q(block.header.number),
              transactionHash: txHash,
              transactionIndex: q(i),
              blockHash,
              blockTimestamp: q(block.header.timestamp),
              logIndex: q(l.logIndex),
              removed: false,
            })),
            gasUsed: q(c.gasUsed),
            maxUsedGas: q(c.maxUsedGas),
            status: q(c.status),
          }
          if (c.error) res.error = c.error
          return res
        })
        return out
      })
    },
  }
}
