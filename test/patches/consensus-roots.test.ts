// The ethereumjs patches (patches/, scripts/apply-patches.mjs) must not change consensus: a fixed sequence of
// blocks (transfers to new accounts, a contract whose storage is written, cleared back to the empty trie and
// written inside a reverted call) gives the state, receipts and transactions roots recorded before any patch.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, createContractAddress, hexToBytes } from '@ethereumjs/util'
import { afterAll, describe, expect, it } from 'vitest'
import { deriveDevAccounts } from '../../src/chain/accounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { loadChainSpec } from '../../src/chain/genesis.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-consensus-roots-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

// runtime: SSTORE(calldata[0:32], calldata[32:64]); REVERT when calldata[64:96] is non-zero
const RUNTIME = '6020356000355560403560' + '0f5700005b600080fd'
const INIT = `0x6014 80 600b 6000 39 6000 f3`.replace(/ /g, '') + RUNTIME
const word = (n: bigint) => n.toString(16).padStart(64, '0')

/** Recorded at 7291c98 (before patches/ existed, genesis.json = genesis/devnet.json then): [stateRoot, receiptTrie, txTrie]. */
const EXPECTED: [string, string, string][] = [
  [
    '0x0471e39945ec6aeeb33cf22eb8d747feb9e8099fe527d6f3cfa6cb0a12e32541',
    '0xf78dfb743fbd92ade140711c8bbc542b5e307f0ab7984eff35d751969fe57efa',
    '0x0942ba42b23dea58c1bb236287ea340acd911d9b04b1948601fa4d5723746b09',
  ],
  [
    '0x4e565b8ea6a30e10b3d9f262df8592eedda92892c7e1a6e70a0e6c914234dc8c',
    '0xc75af1415874255e8cc23e0c84c79b9641c6222facc75f0f6bfb2556ab91747b',
    '0x17b0494d6f3c950161f313490f66961d08c626bd32ca32455b97dce5f6e9402b',
  ],
  [
    '0x9b64d013dd59690277a3caa5df0b16d22f261e5ce69b323797bf029b35b04994',
    '0x6c9318f9abd97241b05ce4974f9efe440200a54a01bc158a3cb3d4fed972ad79',
    '0x1f10846fce92ac098ff7a50bd0a9fdcfbc172fb35abd2c3416d30b1482e1aae6',
  ],
  [
    '0x1ce7294cdeff21187e0bf3b54bd80e5553489bc26c9e46d381edeee5bbccff62',
    '0x5737582d3cad6abc81d7d27956e7b2f81cef9d62255ea92b99bf4cfc152bb1a3',
    '0x549ce482c7181307740f2efafabeb5f5748c1fce6ce395640792c003e50187f0',
  ],
  [
    '0x5fef08d65c81c89b325dea23c41043176f46553bfe53d0947f30ffc53d7cd38f',
    '0xf3caae91064608f081f06cc9ffbc800a32adb112abeddff7c57c23a60ecaa690',
    '0xe075c8c2db8fb455a811ee1eddf18d72982a2602dd8ff202b7f311f914e2ff09',
  ],
  [
    '0x4877cdf0b42553864b7f722e6edfa5f1b4c00537cbf19d6648c3c7353fbcd3c5',
    '0xcc42d211c1cc30dc63fff6fe56fdc758aa9e4411b7c962e7f301fa6b1b3a7505',
    '0xe044328f8edc7ca7fb43ef703f42ec2a2cf6c81d88fdfc8950cdf56f68345cae',
  ],
  [
    '0x9971dc1b40d67b493af5283f2d2c6c9b2b7065f60c9a368eb5672c255ae6685e',
    '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
    '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
  ],
]

describe('consensus roots with the ethereumjs patches', () => {
  it('a fixed block sequence gives the roots recorded before the patches', async () => {
    // the devnet genesis as of the recording, pinned: a rebuilt genesis contract would change the roots too
    const spec = loadChainSpec(new URL('./genesis.json', import.meta.url))
    const chain = await Chain.open({ datadir: join(tmp, 'a'), spec })
    try {
      const common = createCustomCommon({ chainId: Number(chain.chainId) }, Mainnet, { hardfork: 'prague' })
      const [dev] = deriveDevAccounts(spec.lattice.devMnemonic, 1)
      let nonce = 0n
      const tx = (to: string | undefined, data = '0x', value = 0n): TypedTransaction =>
        createFeeMarket1559Tx(
          {
            nonce: nonce++,
            maxFeePerGas: 100n * 10n ** 9n,
            maxPriorityFeePerGas: 10n ** 9n,
            gasLimit: 200_000n,
            to: to === undefined ? undefined : createAddressFromString(to),
            value,
            data: hexToBytes(data as `0x${string}`),
            chainId: chain.chainId,
          },
          { common },
        ).sign(dev.privateKey)
      const contract = createContractAddress(dev.address, 1n).toString()
      const set = (slot: bigint, value: bigint, revert = 0n) => `0x${word(slot)}${word(value)}${word(revert)}`
      const blocks: TypedTransaction[][] = [
        [tx('0x00000000000000000000000000000000000000aa', '0x', 5n)],
        [tx(undefined, INIT)],
        [tx(contract, set(1n, 7n)), tx(contract, set(2n, 9n))],
        // back to the empty storage trie
        [tx(contract, set(1n, 0n)), tx(contract, set(2n, 0n))],
        // a write inside a reverted call, then a transfer to a fresh account in the same block
        [tx(contract, set(3n, 1n, 1n)), tx('0x00000000000000000000000000000000000000bb', '0x', 1n)],
        [tx(contract, set(4n, 4n))],
        [],
      ]
      const got: [string, string, string][] = []
      for (const [i, txs] of blocks.entries()) {
        const mined = await chain.exclusive(() => chain.mine(txs, { timestamp: 1_800_000_000n + BigInt(i) * 12n }))
        expect(mined.rejected).toEqual([])
        if (i === 4) expect(mined.receipts.map((r) => r.status)).toEqual([0, 1])
        const h = mined.block.header
        got.push([bytesToHex(h.stateRoot), bytesToHex(h.receiptTrie), bytesToHex(h.transactionsTrie)])
      }
      const storage = await chain.stateManager.getStorage(
        createAddressFromString(contract),
        hexToBytes(`0x${word(4n)}`),
      )
      expect(bytesToHex(storage)).toBe('0x04')
      expect(got).toEqual(EXPECTED)
    } finally {
      await chain.close()
    }
  }, 120_000)
})
