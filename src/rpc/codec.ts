import type { Block } from '@ethereumjs/block'
import type { AccessList, TypedTransaction } from '@ethereumjs/tx'
import type { EOACode7702AuthorizationListItem } from '@ethereumjs/util'
import { Address, bigIntToHex, bytesToHex, hexToBytes, intToHex } from '@ethereumjs/util'
import { senderOf } from '../chain/impersonation.ts'
import type { CallRequest, StateOverride } from '../chain/node.ts'
import type { StoredReceipt } from '../chain/receipts.ts'
import { invalidParams } from './errors.ts'

const HEX = /^0x[0-9a-fA-F]*$/

/** A JSON-RPC QUANTITY: 0x-prefixed hex without leading zeros (geth's rule). */
export function quantity(v: unknown, name: string): bigint {
  if (typeof v !== 'string' || !HEX.test(v) || v.length < 3) {
    throw invalidParams(`invalid argument ${name}: expected a hex quantity like "0x1a", got ${show(v)}`)
  }
  if (v.length > 3 && v[2] === '0') throw invalidParams(`invalid argument ${name}: hex number with leading zero digits`)
  if (v.length > 66) throw invalidParams(`invalid argument ${name}: hex number > 256 bits`)
  return BigInt(v)
}

/**
 * The bytes of 0x-prefixed, even-length hex, or undefined where any character is not hex. Node's hex decoder stops
 * at the first pair that is not hex, so a short count is the validation: one native pass instead of a regex and
 * @ethereumjs/util's per-character loop (222 KB of calldata, a ppocr-det input: ~0.2 ms against ~2 ms and ~0.6 ms for
 * those two on this machine). Written into a fresh array, not Buffer.from: a small Buffer is a view into Node's
 * shared 8 KiB pool and would pin it for as long as the bytes are kept (a pooled transaction's data).
 */
function decodeHex(v: string): Uint8Array | undefined {
  if (v.length % 2 !== 0 || v.charCodeAt(0) !== 48 || v.charCodeAt(1) !== 120) return undefined
  const n = (v.length - 2) >> 1
  const out = new Uint8Array(n)
  if (n > 0 && Buffer.from(out.buffer, out.byteOffset, n).write(v.slice(2), 'hex') !== n) return undefined
  return out
}

/** Lower-case 0x-prefixed hex of `bytes` (the same text as @ethereumjs/util's bytesToHex, natively). */
export function hexOf(bytes: Uint8Array): `0x${string}` {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

/** A JSON-RPC DATA value: 0x-prefixed, even-length hex. `size` checks the byte length. */
export function data(v: unknown, name: string, size?: number): Uint8Array {
  const fast = typeof v === 'string' ? decodeHex(v) : undefined
  if (fast) {
    if (size !== undefined && fast.length !== size) {
      throw invalidParams(`invalid argument ${name}: expected ${size} bytes, got ${fast.length}`)
    }
    return fast
  }
  // not valid: the checks below say what is wrong with it
  if (typeof v !== 'string' || !HEX.test(v)) {
    throw invalidParams(`invalid argument ${name}: expected 0x-prefixed hex data, got ${show(v)}`)
  }
  if (v.length % 2 !== 0) throw invalidParams(`invalid argument ${name}: hex string has odd length`)
  const bytes = hexToBytes(v as `0x${string}`)
  if (size !== undefined && bytes.length !== size) {
    throw invalidParams(`invalid argument ${name}: expected ${size} bytes, got ${bytes.length}`)
  }
  return bytes
}

/** A 20-byte address (the decoded bytes are a fresh array: no text round trip through createAddressFromString). */
export function address(v: unknown, name: string): Address {
  return new Address(data(v, name, 20))
}

export function hash(v: unknown, name: string): Uint8Array {
  return data(v, name, 32)
}

export function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw invalidParams(`invalid argument ${name}: expected a boolean, got ${show(v)}`)
  return v
}

/** A block parameter: tag, number, or EIP-1898 object. */
export type BlockRef =
  | { tag: 'latest' | 'earliest' | 'pending' | 'safe' | 'finalized' }
  | { number: bigint }
  | { hash: Uint8Array; requireCanonical: boolean }

export function blockRef(v: unknown, name: string): BlockRef {
  if (v === undefined || v === null) return { tag: 'latest' }
  if (typeof v === 'string') {
    // geth accepts a bare 32-byte block hash wherever a block number or hash is allowed
    if (v.length === 66 && HEX.test(v)) return { hash: hash(v, name), requireCanonical: false }
    if (v === 'latest' || v === 'earliest' || v === 'pending' || v === 'safe' || v === 'finalized') return { tag: v }
    return { number: quantity(v, name) }
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    if ('blockHash' in o && 'blockNumber' in o)
      throw invalidParams(`invalid argument ${name}: set blockHash or blockNumber, not both`)
    if ('blockHash' in o)
      return { hash: hash(o.blockHash, `${name}.blockHash`), requireCanonical: o.requireCanonical === true }
    if ('blockNumber' in o) return blockRef(o.blockNumber, `${name}.blockNumber`)
  }
  throw invalidParams(`invalid argument ${name}: expected a block number, tag or {blockHash}, got ${show(v)}`)
}

/** A transaction call object (eth_call, eth_estimateGas, eth_sendTransaction). */
export function callRequest(v: unknown, name: string): CallRequest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalidParams(`invalid argument ${name}: expected a transaction object, got ${show(v)}`)
  }
  const o = v as Record<string, unknown>
  const opt = <T>(k: string, f: (x: unknown, n: string) => T): T | undefined =>
    o[k] === undefined || o[k] === null ? undefined : f(o[k], `${name}.${k}`)
  if (o.input !== undefined && o.data !== undefined && o.input !== o.data) {
    throw invalidParams(`invalid argument ${name}: both "data" and "input" are set and not equal`)
  }
  if (o.gasPrice !== undefined && (o.maxFeePerGas !== undefined || o.maxPriorityFeePerGas !== undefined)) {
    throw invalidParams(`invalid argument ${name}: both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified`)
  }
  const req: CallRequest = {
    from: opt('from', address),
    to: opt('to', address),
    gas: opt('gas', quantity),
    gasPrice: opt('gasPrice', quantity),
    maxFeePerGas: opt('maxFeePerGas', quantity),
    maxPriorityFeePerGas: opt('maxPriorityFeePerGas', quantity),
    value: opt('value', quantity),
    data: opt('input', data) ?? opt('data', data),
    nonce: opt('nonce', quantity),
    accessList: opt('accessList', accessList),
    authorizationList: opt('authorizationList', authorizationList),
  }
  if (
    req.maxFeePerGas !== undefined &&
    req.maxPriorityFeePerGas !== undefined &&
    req.maxPriorityFeePerGas > req.maxFeePerGas
  ) {
    throw invalidParams(`invalid argument ${name}: maxPriorityFeePerGas is greater than maxFeePerGas`)
  }
  return req
}

/** EIP-7702 authorizations as viem and ethers send them: { chainId, address, nonce, yParity (or v), r, s }. */
function authorizationList(v: unknown, name: string): EOACode7702AuthorizationListItem[] {
  if (!Array.isArray(v)) throw invalidParams(`invalid argument ${name}: expected an array`)
  return v.map((e, i) => {
    const o = (e ?? {}) as Record<string, unknown>
    const at = `${name}[${i}]`
    let yParity: bigint
    if (o.yParity !== undefined) yParity = word(o.yParity, `${at}.yParity`)
    else {
      const sigV = word(o.v, `${at}.v`)
      yParity = sigV >= 27n ? sigV - 27n : sigV
    }
    return {
      chainId: bigIntToHex(word(o.chainId, `${at}.chainId`)),
      address: bytesToHex(data(o.address, `${at}.address`, 20)),
      nonce: bigIntToHex(word(o.nonce, `${at}.nonce`)),
      yParity: bigIntToHex(yParity),
      r: bigIntToHex(word(o.r, `${at}.r`)),
      s: bigIntToHex(word(o.s, `${at}.s`)),
    }
  })
}

/** Up to 32 bytes of hex, leading zeros allowed (signature parts and the like), or a JSON number. */
function word(v: unknown, name: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) {
    throw invalidParams(`invalid argument ${name}: expected hex of at most 32 bytes, got ${show(v)}`)
  }
  return BigInt(v)
}

function accessList(v: unknown, name: string): AccessList {
  if (!Array.isArray(v)) throw invalidParams(`invalid argument ${name}: expected an array`)
  return v.map((e, i) => {
    const o = e as { address?: unknown; storageKeys?: unknown }
    if (!Array.isArray(o?.storageKeys))
      throw invalidParams(`invalid argument ${name}[${i}].storageKeys: expected an array`)
    return {
      address: bytesToHex(data(o.address, `${name}[${i}].address`, 20)),
      storageKeys: o.storageKeys.map((k, j) => bytesToHex(data(k, `${name}[${i}].storageKeys[${j}]`, 32))),
    }
  })
}

/** geth's state override set: { address: { balance, nonce, code, state, stateDiff } }. */
export function stateOverrides(v: unknown, name: string): Map<string, StateOverride> | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParams(`invalid argument ${name}: expected an object`)
  const out = new Map<string, StateOverride>()
  for (const [addr, raw] of Object.entries(v as Record<string, unknown>)) {
    const a = address(addr, `${name} key`).toString()
    const o = (raw ?? {}) as Record<string, unknown>
    const p = `${name}.${addr}`
    if (o.state !== undefined && o.stateDiff !== undefined) {
      throw invalidParams(`invalid argument ${p}: has both "state" and "stateDiff"`)
    }
    const slots = (x: unknown, n: string) => {
      if (typeof x !== 'object' || x === null) throw invalidParams(`invalid argument ${n}: expected an object`)
      const m = new Map<Uint8Array, Uint8Array>()
      for (const [k, val] of Object.entries(x)) m.set(data(k, `${n} key`, 32), data(val, `${n}.${k}`, 32))
      return m
    }
    out.set(a, {
      balance: o.balance === undefined ? undefined : quantity(o.balance, `${p}.balance`),
      nonce: o.nonce === undefined ? undefined : quantity(o.nonce, `${p}.nonce`),
      code: o.code === undefined ? undefined : data(o.code, `${p}.code`),
      state: o.state === undefined ? undefined : slots(o.state, `${p}.state`),
      stateDiff: o.stateDiff === undefined ? undefined : slots(o.stateDiff, `${p}.stateDiff`),
    })
  }
  return out
}

/** Positional params as an array; an object or other value is -32602. */
export function paramList(params: unknown, method: string, min: number, max: number): unknown[] {
  const list = params === undefined || params === null ? [] : params
  if (!Array.isArray(list)) throw invalidParams(`${method} expects positional parameters (an array)`)
  if (list.length < min) throw invalidParams(`missing value for required argument ${list.length}`)
  if (list.length > max) throw invalidParams(`too many arguments, want at most ${max}`)
  return list
}

function show(v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s
}

// ------------------------------------------------------------------- formatting

export const q = (n: bigint | number) => (typeof n === 'number' ? intToHex(n) : bigIntToHex(n))

/** A transaction as eth_getTransactionByHash returns it. */
export function formatTx(tx: TypedTransaction, block?: Block, index?: number): Record<string, unknown> {
  const j = tx.toJSON() as Record<string, unknown>
  const baseFee = block?.header.baseFeePerGas
  const out: Record<string, unknown> = {
    blockHash: block ? bytesToHex(block.hash()) : null,
    blockNumber: block ? q(block.header.number) : null,
    blockTimestamp: block ? q(block.header.timestamp) : null,
    from: senderOf(tx).toString(),
    gas: q(tx.gasLimit),
    gasPrice: q(
      'maxFeePerGas' in tx
        ? baseFee === undefined
          ? tx.maxFeePerGas
          : baseFee +
            (tx.maxPriorityFeePerGas < tx.maxFeePerGas - baseFee ? tx.maxPriorityFeePerGas : tx.maxFeePerGas - baseFee)
        : (tx as { gasPrice: bigint }).gasPrice,
    ),
    hash: bytesToHex(tx.hash()),
    input: hexOf(tx.data),
    nonce: q(tx.nonce),
    to: tx.to ? tx.to.toString() : null,
    transactionIndex: index === undefined ? null : q(index),
    value: q(tx.value),
    type: q(tx.type),
    v: j.v ?? '0x0',
    r: j.r ?? '0x0',
    s: j.s ?? '0x0',
  }
  if (tx.type !== 0) {
    out.chainId = j.chainId
    out.accessList = j.accessList ?? []
    out.yParity = j.v
  } else if (tx.supports(155)) {
    out.chainId = q(tx.common.chainId())
  }
  if ('maxFeePerGas' in tx) {
    out.maxFeePerGas = q(tx.maxFeePerGas)
    out.maxPriorityFeePerGas = q(tx.maxPriorityFeePerGas)
  }
  if ('maxFeePerBlobGas' in tx) {
    out.maxFeePerBlobGas = q(tx.maxFeePerBlobGas as bigint)
    out.blobVersionedHashes = (tx as { blobVersionedHashes: string[] }).blobVersionedHashes
  }
  if (j.authorizationList) {
    // quantities without leading zeros, as geth prints them
    const num = (v: unknown) => q(BigInt(v === '0x' || v === undefined ? 0 : (v as string)))
    out.authorizationList = (j.authorizationList as Record<string, string>[]).map((a) => ({
      chainId: num(a.chainId),
      address: a.address,
      nonce: num(a.nonce),
      yParity: num(a.yParity),
      r: num(a.r),
      s: num(a.s),
    }))
  }
  return out
}

/** A block as eth_getBlockBy* returns it. */
export function formatBlock(block: Block, fullTx: boolean): Record<string, unknown> {
  const h = block.header
  const out: Record<string, unknown> = {
    number: q(h.number),
    hash: bytesToHex(block.hash()),
    parentHash: bytesToHex(h.parentHash),
    nonce: bytesToHex(h.nonce),
    sha3Uncles: bytesToHex(h.uncleHash),
    logsBloom: bytesToHex(h.logsBloom),
    transactionsRoot: bytesToHex(h.transactionsTrie),
    stateRoot: bytesToHex(h.stateRoot),
    receiptsRoot: bytesToHex(h.receiptTrie),
    miner: h.coinbase.toString(),
    difficulty: q(h.difficulty),
    extraData: bytesToHex(h.extraData),
    size: q(block.serialize().length),
    gasLimit: q(h.gasLimit),
    gasUsed: q(h.gasUsed),
    timestamp: q(h.timestamp),
    transactions: block.transactions.map((tx, i) => (fullTx ? formatTx(tx, block, i) : bytesToHex(tx.hash()))),
    uncles: block.uncleHeaders.map((u) => bytesToHex(u.hash())),
    mixHash: bytesToHex(h.mixHash),
  }
  if (h.baseFeePerGas !== undefined) out.baseFeePerGas = q(h.baseFeePerGas)
  if (h.withdrawalsRoot !== undefined) {
    out.withdrawalsRoot = bytesToHex(h.withdrawalsRoot)
    out.withdrawals = (block.withdrawals ?? []).map((w) => {
      const j = w.toJSON()
      return { index: j.index, validatorIndex: j.validatorIndex, address: j.address, amount: j.amount }
    })
  }
  if (h.blobGasUsed !== undefined) out.blobGasUsed = q(h.blobGasUsed)
  if (h.excessBlobGas !== undefined) out.excessBlobGas = q(h.excessBlobGas)
  if (h.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = bytesToHex(h.parentBeaconBlockRoot)
  if (h.requestsHash !== undefined) out.requestsHash = bytesToHex(h.requestsHash)
  return out
}

/** Logs of one transaction as RPC objects. `firstLogIndex` is the block-wide index of its first log. */
export function formatLogs(
  receipt: StoredReceipt,
  block: Block,
  txIndex: number,
  firstLogIndex: number,
): Record<string, unknown>[] {
  const tx = block.transactions[txIndex]
  return receipt.logs.map(([addr, topics, d], i) => ({
    address: bytesToHex(addr),
    topics: topics.map((t) => bytesToHex(t)),
    data: hexOf(d),
    blockNumber: q(block.header.number),
    transactionHash: bytesToHex(tx.hash()),
    transactionIndex: q(txIndex),
    blockHash: bytesToHex(block.hash()),
    blockTimestamp: q(block.header.timestamp),
    logIndex: q(firstLogIndex + i),
    removed: false,
  }))
}

/** Receipts of a block as RPC objects (eth_getBlockReceipts / eth_getTransactionReceipt). */
export function formatReceipts(block: Block, receipts: StoredReceipt[]): Record<string, unknown>[] {
  let logIndex = 0
  return receipts.map((r, i) => {
    const tx = block.transactions[i]
    const logs = formatLogs(r, block, i, logIndex)
    logIndex += r.logs.length
    const out: Record<string, unknown> = {
      transactionHash: bytesToHex(tx.hash()),
      transactionIndex: q(i),
      blockHash: bytesToHex(block.hash()),
      blockNumber: q(block.header.number),
      from: bytesToHex(r.from),
      to: tx.to ? tx.to.toString() : null,
      cumulativeGasUsed: q(r.cumulativeGasUsed),
      gasUsed: q(r.gasUsed),
      effectiveGasPrice: q(r.effectiveGasPrice),
      contractAddress: r.contractAddress ? bytesToHex(r.contractAddress) : null,
      logs,
      logsBloom: bytesToHex(r.logsBloom),
      type: q(r.type),
    }
    // before Byzantium a receipt carries the post-state root instead of a status (geth's shape)
    if (r.root) out.root = bytesToHex(r.root)
    else out.status = q(r.status)
    const blobs = (tx as { blobVersionedHashes?: unknown[] }).blobVersionedHashes
    if (tx.type === 3 && blobs) {
      out.blobGasUsed = q(BigInt(blobs.length) * 131072n)
      out.blobGasPrice = q(block.header.getBlobGasPrice())
    }
    return out
  })
}
