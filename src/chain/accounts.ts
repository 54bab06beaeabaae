import type { Address } from '@ethereumjs/util'
import { createAddressFromPrivateKey } from '@ethereumjs/util'
import { HDKey } from '@scure/bip32'
import { mnemonicToSeedSync } from '@scure/bip39'

/** The mnemonic anvil and Hardhat use for their dev accounts. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export interface DevAccount {
  address: Address
  privateKey: Uint8Array
}

/** Derive `count` accounts on the standard path m/44'/60'/0'/0/i. */
export function deriveDevAccounts(mnemonic: string = DEV_MNEMONIC, count = 10): DevAccount[] {
  const root = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic))
  const out: DevAccount[] = []
  for (let i = 0; i < count; i++) {
    const privateKey = root.derive(`m/44'/60'/0'/0/${i}`).privateKey!
    out.push({ address: createAddressFromPrivateKey(privateKey), privateKey })
  }
  return out
}
