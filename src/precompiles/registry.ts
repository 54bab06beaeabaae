import type { StateManagerInterface } from '@ethereumjs/common'
import type { Address } from '@ethereumjs/util'
import {
  bigIntToBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  createAddressFromString,
  hexToBytes,
  setLengthLeft,
} from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { MODEL_REGISTRY_ADDRESS } from './addresses.ts'
import { REGISTRY_LAYOUT } from './registry-layout.ts'

/** A model entry as the precompile needs it, read straight from ModelRegistry's storage. */
export interface RegistryEntry {
  modelId: string
  owner: string
  status: number
  policy: number
  digest: string
  price: bigint
  cid: string
}

const REGISTRY = createAddressFromString(MODEL_REGISTRY_ADDRESS)
/** Longest string field read from storage (a CID is ~60 bytes). */
const MAX_STRING = 1024

const slotBytes = (n: bigint) => setLengthLeft(bigIntToBytes(n), 32)

async function word(sm: StateManagerInterface, at: Address, slot: bigint): Promise<Uint8Array> {
  return setLengthLeft(await sm.getStorage(at, slotBytes(slot)), 32)
}

async function readString(sm: StateManagerInterface, at: Address, slot: bigint): Promise<string> {
  const head = await word(sm, at, slot)
  let bytes: Uint8Array
  if ((head[31] & 1) === 0) {
    bytes = head.subarray(0, head[31] >> 1)
  } else {
    const len = Number((bytesToBigInt(head) - 1n) / 2n)
    if (len > MAX_STRING) return ''
    const start = bytesToBigInt(keccak256(slotBytes(slot)))
    const parts: Uint8Array[] = []
    for (let i = 0; i * 32 < len; i++) parts.push(await word(sm, at, start + BigInt(i)))
    bytes = concatBytes(...parts).subarray(0, len)
  }
  return new TextDecoder().decode(bytes)
}

/** Base slot of `_models[modelId]`. */
export function modelSlot(modelId: string): bigint {
  return bytesToBigInt(
    keccak256(concatBytes(hexToBytes(modelId as `0x${string}`), slotBytes(REGISTRY_LAYOUT.modelsSlot))),
  )
}

/** Read a model entry; `status` 0 means unknown. */
export async function readRegistryEntry(sm: StateManagerInterface, modelId: string): Promise<RegistryEntry> {
  const base = modelSlot(modelId)
  const f = REGISTRY_LAYOUT.model
  const packed = await word(sm, REGISTRY, base + f.ownerStatusPolicy)
  return {
    modelId,
    owner: bytesToHex(packed.subarray(12, 32)),
    status: packed[11],
    policy: packed[10],
    digest: bytesToHex(await word(sm, REGISTRY, base + f.digest)),
    price: bytesToBigInt(await word(sm, REGISTRY, base + f.price)),
    cid: await readString(sm, REGISTRY, base + f.cid),
  }
}

/** `_allowed[modelId][account]`. */
export async function isAllowlisted(sm: StateManagerInterface, modelId: string, account: string): Promise<boolean> {
  const inner = keccak256(concatBytes(hexToBytes(modelId as `0x${string}`), slotBytes(REGISTRY_LAYOUT.allowedSlot)))
  const slot = bytesToBigInt(keccak256(concatBytes(setLengthLeft(hexToBytes(account as `0x${string}`), 32), inner)))
  return (await word(sm, REGISTRY, slot))[31] !== 0
}
