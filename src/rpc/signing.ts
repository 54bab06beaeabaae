// Node-side signing with the unlocked dev accounts (devnet only), as anvil signs: eth_sign and personal_sign
// (EIP-191 personal message), eth_signTypedData_v4 (EIP-712), eth_signTransaction (filled in as
// eth_sendTransaction fills it, returned as raw EIP-2718 bytes). Signatures are r ‖ s ‖ v with v = 27 or 28.
import { bytesToHex } from '@ethereumjs/util'
import type { TypedDataDomain, TypedDataField } from 'ethers'
import { hashMessage, SigningKey, TypedDataEncoder } from 'ethers'
import type { LatticeNode } from '../chain/node.ts'
import { devSigner } from '../chain/submission.ts'
import { address, callRequest, data, paramList } from './codec.ts'
import { invalidParams } from './errors.ts'
import type { Handlers } from './types.ts'

interface TypedData {
  types: Record<string, TypedDataField[]>
  domain: TypedDataDomain
  primaryType?: string
  message: Record<string, unknown>
}

/** The EIP-712 payload: a JSON object, or a JSON string as MetaMask and ethers send it. */
function typedData(v: unknown): TypedData {
  let o = v
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v)
    } catch {
      throw invalidParams('invalid argument typedData: not JSON')
    }
  }
  const t = o as Partial<TypedData> | null
  if (!t || typeof t !== 'object' || !t.types || !t.domain || !t.message || typeof t.types !== 'object') {
    throw invalidParams('invalid argument typedData: expected { types, domain, primaryType, message }')
  }
  return t as TypedData
}

/** The EIP-712 digest; ethers infers the primary type from `types` without EIP712Domain. */
function typedDataHash(t: TypedData): string {
  const { EIP712Domain: _, ...types } = t.types
  try {
    if (t.primaryType && types[t.primaryType]) return hashWithPrimary(t.domain, types, t.primaryType, t.message)
    return TypedDataEncoder.hash(t.domain, types, t.message)
  } catch (err) {
    throw invalidParams(`invalid argument typedData: ${(err as Error).message.split(' (')[0]}`)
  }
}

/** keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(primaryType, message)). */
function hashWithPrimary(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  primaryType: string,
  message: Record<string, unknown>,
): string {
  // keep only the types reachable from the primary type, so it is the single root ethers wants
  const reachable = new Set<string>([primaryType])
  const queue = [primaryType]
  while (queue.length > 0) {
    for (const f of types[queue.pop()!] ?? []) {
      const base = f.type.replace(/\[\d*\]/g, '')
      if (types[base] && !reachable.has(base)) {
        reachable.add(base)
        queue.push(base)
      }
    }
  }
  const subset = Object.fromEntries(Object.entries(types).filter(([k]) => reachable.has(k)))
  return TypedDataEncoder.hash(domain, subset, message)
}

/** Signing methods for the dev accounts. */
export function signingMethods(node: LatticeNode): Handlers {
  const keyOf = (v: unknown) => new SigningKey(devSigner(node.devAccounts, address(v, 'address')).privateKey)
  return {
    eth_sign: async (p) => {
      const [a, d] = paramList(p, 'eth_sign', 2, 2)
      return keyOf(a).sign(hashMessage(data(d, 'message'))).serialized
    },
    personal_sign: async (p) => {
      const [d, a] = paramList(p, 'personal_sign', 2, 3)
      return keyOf(a).sign(hashMessage(data(d, 'message'))).serialized
    },
    eth_signTypedData_v4: async (p) => {
      const [a, t] = paramList(p, 'eth_signTypedData_v4', 2, 2)
      const key = keyOf(a)
      return key.sign(typedDataHash(typedData(t))).serialized
    },
    eth_signTransaction: async (p) => {
      const [t] = paramList(p, 'eth_signTransaction', 1, 1)
      const req = callRequest(t, 'transaction')
      devSigner(node.devAccounts, req.from)
      return bytesToHex((await node.signTransaction(req)).serialize())
    },
  }
}
