// State overrides of eth_call, eth_estimateGas and eth_simulateV1 (geth's format), and the accounts they may
// not touch.
import { createAccount, createAddressFromString, setLengthLeft } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import { ProtectedOverrideError } from './errors.ts'

/** Per-account state override for eth_call (geth's format). */
export interface StateOverride {
  balance?: bigint
  nonce?: bigint
  code?: Uint8Array
  /** Replaces the whole storage. */
  state?: Map<Uint8Array, Uint8Array>
  /** Patches single slots. */
  stateDiff?: Map<Uint8Array, Uint8Array>
}

const PROTECTED = new Map([
  [MODEL_REGISTRY_ADDRESS.toLowerCase(), 'ModelRegistry'],
  [INFERENCE_PRECOMPILE_ADDRESS.toLowerCase(), 'the inference precompile'],
])

/**
 * Refuse overrides of the code or storage of ModelRegistry and the inference precompile: the precompile's
 * access policy, price and model entries live there, and a call must not rewrite them for itself (a private
 * model public for one eth_call). geth refuses overriding a precompile the same way.
 */
export function refuseProtectedOverrides(overrides: Map<string, StateOverride>): void {
  for (const [addrHex, o] of overrides) {
    const name = PROTECTED.get(addrHex.toLowerCase())
    if (!name) continue
    if (o.code !== undefined || o.state !== undefined || o.stateDiff !== undefined) {
      throw new ProtectedOverrideError(addrHex, `the code and storage of ${name} cannot be overridden`)
    }
  }
}

/** Apply geth-style account overrides, touching only what each override sets (a bare override creates nothing). */
export async function applyAccountOverrides(
  sm: VM['stateManager'],
  overrides: Map<string, StateOverride>,
): Promise<void> {
  refuseProtectedOverrides(overrides)
  for (const [addrHex, o] of overrides) {
    const addr = createAddressFromString(addrHex)
    if (o.nonce !== undefined || o.balance !== undefined) {
      const acct = (await sm.getAccount(addr)) ?? createAccount({})
      if (o.nonce !== undefined) acct.nonce = o.nonce
      if (o.balance !== undefined) acct.balance = o.balance
      await sm.putAccount(addr, acct)
    }
    if (o.code !== undefined) await sm.putCode(addr, o.code)
    if (o.state) {
      await sm.clearStorage(addr)
      for (const [k, v] of o.state) await sm.putStorage(addr, setLengthLeft(k, 32), v)
    }
    if (o.stateDiff) for (const [k, v] of o.stateDiff) await sm.putStorage(addr, setLengthLeft(k, 32), v)
  }
}
