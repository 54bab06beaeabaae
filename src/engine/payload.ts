// Engine API value codecs: parameters checked field by field (-32602 naming the field), execution payloads to and
// from ethereumjs blocks (ExecutionPayloadV1/V2/V3), EIP-7685 requests and their header commitment.
import type { Block, ExecutionPayload } from '@ethereumjs/block'
import { createBlockFromExecutionPayload } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { WithdrawalData } from '@ethereumjs/util'
import { bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import { sha256 } from 'ethereum-cryptography/sha256.js'
import { EngineParamsError } from './errors.ts'

const HEX = /^0x[0-9a-fA-F]*$/
const QTY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/

const show = (v: unknown) => {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** A byte string (`len` bytes when given). */
export function data(v: unknown, name: string, len?: number): Uint8Array {
  if (typeof v !== 'string' || !HEX.test(v) || v.length % 2 !== 0) {
    throw new EngineParamsError(`invalid ${name}: expected hex data, got ${show(v)}`)
  }
  const b = hexToBytes(v as `0x${string}`)
  if (len !== undefined && b.length !== len) {
    throw new EngineParamsError(`invalid ${name}: expected ${len} bytes, got ${b.length}`)
  }
  return b
}

/** A QUANTITY (hex without leading zeros). */
export function quantity(v: unknown, name: string): bigint {
  if (typeof v !== 'string' || !QTY.test(v))
    throw new EngineParamsError(`invalid ${name}: expected a quantity, got ${show(v)}`)
  return BigInt(v)
}

/** An object parameter. */
export function object(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new EngineParamsError(`invalid ${name}: expected an object, got ${show(v)}`)
  }
  return v as Record<string, unknown>
}

/** An array parameter. */
export function array(v: unknown, name: string): unknown[] {
  if (!Array.isArray(v)) throw new EngineParamsError(`invalid ${name}: expected an array, got ${show(v)}`)
  return v
}

/** Positional params, at least `min` of them. */
export function params(p: unknown, method: string, min: number, max = min): unknown[] {
  const list = p === undefined || p === null ? [] : p
  if (!Array.isArray(list)) throw new EngineParamsError(`${method} takes positional params (an array)`)
  if (list.length < min || list.length > max) {
    throw new EngineParamsError(`${method} takes ${min === max ? min : `${min} to ${max}`} params, got ${list.length}`)
  }
  return list
}

const present = (o: Record<string, unknown>, k: string) => o[k] !== undefined && o[k] !== null

/** Which payload structure a method version accepts. */
export type PayloadShape = 'v1' | 'v2' | 'v3'

/** Withdrawals (WithdrawalV1 list). */
export function withdrawals(v: unknown, name: string): WithdrawalData[] {
  return array(v, name).map((w, i) => {
    const o = object(w, `${name}[${i}]`)
    return {
      index: quantity(o.index, `${name}[${i}].index`),
      validatorIndex: quantity(o.validatorIndex, `${name}[${i}].validatorIndex`),
      address: data(o.address, `${name}[${i}].address`, 20),
      amount: quantity(o.amount, `${name}[${i}].amount`),
    }
  })
}

/**
 * Check an ExecutionPayload object and return it in ethereumjs' form. `withdrawals` and the blob gas fields are
 * required or refused by shape (V1: neither, V2: withdrawals when `withWithdrawals`, V3: both).
 */
export function parsePayload(
  v: unknown,
  name: string,
  shape: PayloadShape,
  withWithdrawals: boolean,
): ExecutionPayload {
  const o = object(v, name)
  const f = (k: string) => `${name}.${k}`
  const hex32 = (k: string) => bytesToHex(data(o[k], f(k), 32))
  const qty = (k: string): `0x${string}` => `0x${quantity(o[k], f(k)).toString(16)}`
  const out: ExecutionPayload = {
    parentHash: hex32('parentHash'),
    feeRecipient: bytesToHex(data(o.feeRecipient, f('feeRecipient'), 20)),
    stateRoot: hex32('stateRoot'),
    receiptsRoot: hex32('receiptsRoot'),
    logsBloom: bytesToHex(data(o.logsBloom, f('logsBloom'), 256)),
    prevRandao: hex32('prevRandao'),
    blockNumber: qty('blockNumber'),
    gasLimit: qty('gasLimit'),
    gasUsed: qty('gasUsed'),
    timestamp: qty('timestamp'),
    extraData: bytesToHex(data(o.extraData, f('extraData'))),
    baseFeePerGas: qty('baseFeePerGas'),
    blockHash: hex32('blockHash'),
    transactions: array(o.transactions, f('transactions')).map((t, i) =>
      bytesToHex(data(t, `${f('transactions')}[${i}]`)),
    ),
  }
  if (hexToBytes(out.extraData).length > 32)
    throw new EngineParamsError(`invalid ${f('extraData')}: more than 32 bytes`)
  const wantWithdrawals = shape === 'v3' || (shape === 'v2' && withWithdrawals)
  if (wantWithdrawals && !present(o, 'withdrawals')) throw new EngineParamsError(`missing ${f('withdrawals')}`)
  if (!wantWithdrawals && present(o, 'withdrawals')) {
    throw new EngineParamsError(`unexpected ${f('withdrawals')}: not allowed in this version or before Shanghai`)
  }
  if (wantWithdrawals) {
    out.withdrawals = withdrawals(o.withdrawals, f('withdrawals')).map((w) => ({
      index: `0x${(w.index as bigint).toString(16)}`,
      validatorIndex: `0x${(w.validatorIndex as bigint).toString(16)}`,
      address: bytesToHex(w.address as Uint8Array),
      amount: `0x${(w.amount as bigint).toString(16)}`,
    }))
  }
  for (const k of ['blobGasUsed', 'excessBlobGas']) {
    if (shape === 'v3') {
      if (!present(o, k)) throw new EngineParamsError(`missing ${f(k)}`)
      ;(out as Record<string, unknown>)[k] = qty(k)
    } else if (present(o, k)) {
      throw new EngineParamsError(`unexpected ${f(k)}: not allowed before Cancun (newPayloadV3)`)
    }
  }
  return out
}

/**
 * EIP-7685 `executionRequests`: type byte + data per element, ascending types, no empty data. Returns the list and
 * the header commitment sha256(sha256(r0) ++ sha256(r1) ++ ...).
 */
export function parseRequests(v: unknown, name: string): { requests: Uint8Array[]; hash: `0x${string}` } {
  const requests = array(v, name).map((r, i) => data(r, `${name}[${i}]`))
  for (const [i, r] of requests.entries()) {
    if (r.length <= 1) throw new EngineParamsError(`invalid ${name}[${i}]: a request needs a type byte and data`)
    if (i > 0 && r[0] <= requests[i - 1][0]) {
      throw new EngineParamsError(`invalid ${name}[${i}]: request types must be strictly ascending`)
    }
  }
  return { requests, hash: requestsHash(requests) }
}

/** The EIP-7685 commitment of a request list. */
export function requestsHash(requests: Uint8Array[]): `0x${string}` {
  return bytesToHex(sha256(concatBytes(...requests.map((r) => sha256(r)))))
}

/** The block an execution payload describes; throws a plain Error (the payload is INVALID) when it does not hash. */
export async function payloadToBlock(
  payload: ExecutionPayload,
  common: Common,
  extra: { parentBeaconBlockRoot?: `0x${string}`; requestsHash?: `0x${string}` },
): Promise<Block> {
  const c = common.copy()
  c.setHardforkBy({ blockNumber: BigInt(payload.blockNumber), timestamp: BigInt(payload.timestamp) })
  return createBlockFromExecutionPayload({ ...payload, ...extra }, { common: c })
}

/** A block as ExecutionPayloadV1/V2/V3 JSON. */
export function blockToPayload(block: Block, shape: PayloadShape): Record<string, unknown> {
  const p = block.toExecutionPayload() as unknown as Record<string, unknown>
  const out: Record<string, unknown> = {
    parentHash: p.parentHash,
    feeRecipient: p.feeRecipient,
    stateRoot: p.stateRoot,
    receiptsRoot: p.receiptsRoot,
    logsBloom: p.logsBloom,
    prevRandao: p.prevRandao,
    blockNumber: p.blockNumber,
    gasLimit: p.gasLimit,
    gasUsed: p.gasUsed,
    timestamp: p.timestamp,
    extraData: p.extraData,
    baseFeePerGas: p.baseFeePerGas,
    blockHash: p.blockHash,
    transactions: p.transactions,
  }
  if (shape !== 'v1' && block.withdrawals !== undefined) out.withdrawals = block.withdrawals.map((w) => w.toJSON())
  if (shape === 'v3') {
    out.blobGasUsed = p.blobGasUsed
    out.excessBlobGas = p.excessBlobGas
  }
  return out
}
