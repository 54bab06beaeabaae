import { createFeeMarket1559Tx, createTxFromRLP, paramsTx } from '@ethereumjs/tx'
import { hexToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { memoiseUpdateParams } from '../../src/chain/common-params.ts'
import { createChainCommon, loadChainSpec } from '../../src/chain/genesis.ts'

const KEY = hexToBytes('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const spec = loadChainSpec()

/** Count the parameter-cache rebuilds of one Common (the work the memo saves). */
function countRebuilds(common: object): { n: number } {
  const c = { n: 0 }
  const inner = common as { _buildParamsCache(): void }
  const build = inner._buildParamsCache
  inner._buildParamsCache = function (this: unknown) {
    c.n++
    build.call(this)
  }
  return c
}

describe('memoised Common.updateParams', () => {
  it('is installed on the chain Common and skips sets that already hold', () => {
    const common = createChainCommon(spec)
    const rebuilds = countRebuilds(common)
    common.updateParams(paramsTx)
    const first = rebuilds.n
    for (let i = 0; i < 100; i++) common.updateParams(paramsTx)
    expect(rebuilds.n).toBe(first)
    expect(first).toBeLessThanOrEqual(1)
  })

  it('still applies a set that changes a value, and re-applies one overridden since', () => {
    const memo = memoiseUpdateParams(createChainCommon(spec))
    const a = { 1559: { elasticityMultiplier: 2 } }
    const b = { 1559: { elasticityMultiplier: 7 } }
    memo.updateParams(a)
    expect(memo.param('elasticityMultiplier')).toBe(2n)
    memo.updateParams(b)
    expect(memo.param('elasticityMultiplier')).toBe(7n)
    memo.updateParams(a)
    expect(memo.param('elasticityMultiplier')).toBe(2n)
    // a copy starts with its own memo and its own cache
    const copy = memo.copy()
    copy.updateParams(b)
    expect(copy.param('elasticityMultiplier')).toBe(7n)
    copy.updateParams(a)
    expect(copy.param('elasticityMultiplier')).toBe(2n)
  })

  it('decodes transactions to the same fields and hashes as an unmemoised Common', () => {
    const memo = createChainCommon(spec)
    const raws = Array.from({ length: 20 }, (_, i) =>
      createFeeMarket1559Tx(
        {
          nonce: i,
          maxFeePerGas: 10n ** 10n,
          maxPriorityFeePerGas: 1n,
          gasLimit: 21000n,
          to: `0x${'11'.repeat(20)}`,
          chainId: spec.chainId,
        },
        { common: memo },
      )
        .sign(KEY)
        .serialize(),
    )
    // a Common the memo never saw: the wrapper is an own property of the instance it was installed on
    const plain = createChainCommon(spec)
    delete (plain as unknown as Record<string, unknown>).updateParams
    delete (plain as unknown as Record<string, unknown>)._buildParamsCache
    const rebuilds = countRebuilds(memo)
    for (const raw of raws) {
      const x = createTxFromRLP(raw, { common: memo })
      const y = createTxFromRLP(raw, { common: plain })
      expect(x.hash()).toEqual(y.hash())
      expect(x.getDataGas()).toBe(y.getDataGas())
      expect(x.getIntrinsicGas()).toBe(y.getIntrinsicGas())
    }
    // the copies every decode makes found the transaction parameters already in the shared cache
    expect(rebuilds.n).toBe(0)
  })
})
