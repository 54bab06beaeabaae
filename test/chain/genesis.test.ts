import { Hardfork } from '@ethereumjs/common'
import { bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { DEV_MNEMONIC, deriveDevAccounts } from '../../src/chain/accounts.ts'
import { createChainCommon, loadChainSpec, parseChainSpec } from '../../src/chain/genesis.ts'

describe('devnet genesis', () => {
  const spec = loadChainSpec()

  it('has its own chain id and a 30M+ gas limit', () => {
    expect([1n, 1337n, 31337n]).not.toContain(spec.chainId)
    expect(BigInt(spec.geth.gasLimit)).toBeGreaterThanOrEqual(30_000_000n)
  })

  it('funds the 10 anvil/Hardhat accounts of the well-known mnemonic with 10000 ETH', () => {
    const accounts = deriveDevAccounts(DEV_MNEMONIC, 10)
    expect(accounts[0].address.toString()).toBe('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')
    expect(bytesToHex(accounts[0].privateKey)).toBe(
      '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    )
    const alloc = Object.fromEntries(Object.entries(spec.geth.alloc).map(([k, v]) => [k.toLowerCase(), v]))
    for (const a of accounts) {
      expect(BigInt(alloc[a.address.toString()].balance)).toBe(10_000n * 10n ** 18n)
    }
  })

  it('activates the newest final fork ethereumjs knows from block 0, with the Prague system contracts', () => {
    const common = createChainCommon(spec)
    common.setHardforkBy({ blockNumber: 0n, timestamp: 0n })
    expect(common.gteHardfork(Hardfork.Osaka)).toBe(true)
    expect(common.hardfork()).toBe(Hardfork.Bpo2)
    // address -> code size in bytes as the EIPs publish it; every one starts with the system-caller guard
    // (CALLER PUSH20 0xff…fe EQ)
    for (const [a, size] of [
      ['0x0000F90827F1C53a10cb7A02335B175320002935', 83], // EIP-2935 history
      ['0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02', 97], // EIP-4788 beacon roots
      ['0x00000961Ef480Eb55e80D19ad83579A64c007002', 504], // EIP-7002 withdrawals
      ['0x0000BBdDc7CE488642fb579F8B00f3a590007251', 414], // EIP-7251 consolidations
    ] as const) {
      const entry = Object.entries(spec.geth.alloc).find(([k]) => k.toLowerCase() === a.toLowerCase())
      const code = entry?.[1].code ?? '0x'
      expect(code.startsWith('0x3373fffffffffffffffffffffffffffffffffffffffe14')).toBe(true)
      expect((code.length - 2) / 2).toBe(size)
    }
  })

  it('refuses a genesis without required fields, naming the field', () => {
    expect(() => parseChainSpec({ config: { chainId: 5 }, alloc: {} })).toThrow(/gasLimit/)
    expect(() => parseChainSpec({ gasLimit: '0x1', alloc: {} })).toThrow(/config/)
  })
})
