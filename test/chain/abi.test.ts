import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Interface } from 'ethers'
import { describe, expect, it } from 'vitest'
import { ABI_DIR, contractAbi } from '../../src/chain/abi.ts'
import { CONTRACTS_ROOT } from '../../src/chain/contracts.ts'
import { compileContractsCached } from '../helpers/compile-cache.ts'

describe('contract ABIs from the solc build', () => {
  const artifacts = Object.values(compileContractsCached()).filter(
    (a) => a.sourceName.startsWith('contracts/') && a.abi.length > 0,
  )

  it('contracts/abi holds exactly the ABI of every contract in contracts/, as a fresh compile gives it', () => {
    const files = readdirSync(join(CONTRACTS_ROOT, ABI_DIR)).sort()
    expect(files).toEqual(artifacts.map((a) => `${a.contractName}.json`).sort())
    for (const a of artifacts) {
      const text = readFileSync(join(CONTRACTS_ROOT, ABI_DIR, `${a.contractName}.json`), 'utf8')
      // a stale file means `npm run contracts:build` was not run after a contract changed
      expect(JSON.parse(text), a.contractName).toEqual(a.abi)
    }
  })

  it('contractAbi gives ethers a usable interface', () => {
    const registry = new Interface(contractAbi('ModelRegistry') as never)
    expect(registry.getFunction('register')).not.toBeNull()
    expect(registry.getEvent('ModelRegistered')).not.toBeNull()
  })
})
