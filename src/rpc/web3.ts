import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { data, paramList } from './codec.ts'
import type { Handlers } from './types.ts'

/** web3_* methods. */
export function web3Methods(clientVersion: string): Handlers {
  return {
    web3_clientVersion: async () => clientVersion,
    web3_sha3: async (p) => {
      const [d] = paramList(p, 'web3_sha3', 1, 1)
      return bytesToHex(keccak256(data(d, 'data')))
    },
  }
}
