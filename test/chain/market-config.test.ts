// config.lattice.market: the checks of the genesis field, and the storage `contracts build` writes for it, read back
// by the compiled InferenceMarket's own getters in a bare @ethereumjs/evm (no constructor runs for a predeploy).
import { readFileSync } from 'node:fs'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createEVM } from '@ethereumjs/evm'
import { Account, bytesToHex, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { Interface, type InterfaceAbi } from 'ethers'
import { describe, expect, it } from 'vitest'
import { compileContracts, marketStorage } from '../../src/chain/contracts.ts'
import { GenesisError } from '../../src/chain/errors.ts'
import { validateGethGenesis } from '../../src/chain/genesis-schema.ts'
import { parseMarketConfig } from '../../src/chain/market-config.ts'
import { INFERENCE_MARKET_ADDRESS } from '../../src/precompiles/addresses.ts'

const genesisWith = (market: unknown) => ({ config: { lattice: { market } } })
const DEVNET = new URL('../../genesis/devnet.json', import.meta.url)
/** Code generation for the market only (the other contracts compile as imports): a third of a full build. */
const compileMarket = () => compileContracts({ outputsFor: ['contracts/InferenceMarket.sol'] }).InferenceMarket

/** challengeWindow, challengeBond and minStake as the contract answers them with `storage` in its account. */
async function settings(storage: Record<string, string>): Promise<bigint[]> {
  const InferenceMarket = compileMarket()
  const iface = new Interface(InferenceMarket.abi as InterfaceAbi)
  const evm = await createEVM({ common: new Common({ chain: Mainnet, hardfork: Hardfork.Prague }) })
  const at = createAddressFromString(INFERENCE_MARKET_ADDRESS)
  await evm.stateManager.putAccount(at, new Account(1n, 0n))
  await evm.stateManager.putCode(at, hexToBytes(InferenceMarket.deployedBytecode))
  for (const [k, v] of Object.entries(storage)) {
    await evm.stateManager.putStorage(
      at,
      hexToBytes(k as `0x${string}`),
      setLengthLeft(hexToBytes(v as `0x${string}`), 32),
    )
  }
  const out: bigint[] = []
  for (const fn of ['challengeWindow', 'challengeBond', 'minStake']) {
    const r = await evm.runCall({
      to: at,
      data: hexToBytes(iface.encodeFunctionData(fn) as `0x${string}`),
      gasLimit: 100_000n,
    })
    expect(r.execResult.exceptionError).toBeUndefined()
    out.push(iface.decodeFunctionResult(fn, bytesToHex(r.execResult.returnValue))[0] as bigint)
  }
  return out
}

describe('config.lattice.market', () => {
  it('reads numbers and decimal or hex strings, and refuses zero, negatives, junk and unknown fields', () => {
    expect(parseMarketConfig(undefined)).toEqual({})
    expect(parseMarketConfig({ challengeWindow: 3, challengeBond: '0x10', minStake: '2000000000000000000' })).toEqual({
      challengeWindow: 3n,
      challengeBond: 16n,
      minStake: 2_000_000_000_000_000_000n,
    })
    for (const bad of [
      { challengeWindow: 0 },
      { challengeWindow: -1 },
      { challengeWindow: 1.5 },
      { challengeWindow: '18446744073709551616' }, // 2^64 does not fit the uint64 window
      { challengeBond: '1e18' },
      { minStake: 1e18 }, // not a safe integer: the JSON number has lost its low digits already
      { window: 3 },
      [],
    ]) {
      expect(() => parseMarketConfig(bad), JSON.stringify(bad)).toThrow(GenesisError)
    }
  })

  it('a genesis with a bad market field is refused by the genesis checks', () => {
    const devnet = JSON.parse(readFileSync(DEVNET, 'utf8'))
    expect(() => validateGethGenesis(devnet)).not.toThrow()
    devnet.config.lattice.market.challengeWindow = 0
    expect(() => validateGethGenesis(devnet)).toThrow(/config\.lattice\.market\.challengeWindow/)
  })

  it('the storage written for the genesis settings is what the contract reads; unset fields read as defaults', async () => {
    const InferenceMarket = compileMarket()
    const set = marketStorage(
      genesisWith({ challengeWindow: 7, challengeBond: '0x1234', minStake: '5000000000000000000' }),
      InferenceMarket,
    )
    expect(await settings(set)).toEqual([7n, 0x1234n, 5n * 10n ** 18n])
    expect(marketStorage(genesisWith(undefined), InferenceMarket)).toEqual({})
    expect(await settings({})).toEqual([5n, 10n ** 17n, 10n ** 18n])
    // the devnet's genesis (kept equal to a fresh build by `contracts build --check`) carries its 3-block window
    const devnet = JSON.parse(readFileSync(DEVNET, 'utf8'))
    const account = Object.entries(devnet.alloc as Record<string, { storage?: Record<string, string> }>).find(
      ([k]) => k.toLowerCase() === INFERENCE_MARKET_ADDRESS,
    )?.[1]
    expect(account?.storage).toEqual(marketStorage(devnet, InferenceMarket))
    expect(await settings(account?.storage ?? {})).toEqual([3n, 10n ** 17n, 10n ** 18n])
  }, 60_000)
})
