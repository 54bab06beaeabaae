// eth_estimateGas searches over executions at different gas limits. Only a failed execution at a limit (out of
// gas, revert) may mean "more gas"; an error the node throws (model unavailable, an open checkpoint) must
// reach the caller instead of turning into a confident, wrong estimate.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecResult, PrecompileInput } from '@ethereumjs/evm'
import { EVMError } from '@ethereumjs/evm'
import { createAddressFromString } from '@ethereumjs/util'
import { afterAll, describe, expect, it } from 'vitest'
import { Chain } from '../../src/chain/chain.ts'
import { OpenCheckpointError } from '../../src/chain/errors.ts'
import { loadChainSpec } from '../../src/chain/genesis.ts'
import { LatticeNode } from '../../src/chain/node.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-estimate-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const ADDRESS = '0x0000000000000000000000000000000000000b0b'
const CAP = 1_000_000n
/** At least the gas the precompile sees when the transaction has the whole cap (less the intrinsic ~21,004). */
const NEAR_FULL = CAP - 30_000n

const ok = (): ExecResult => ({ executionGasUsed: 1000n, returnValue: new Uint8Array([1]) })
const oog = (gasLimit: bigint): ExecResult => ({
  executionGasUsed: gasLimit,
  returnValue: new Uint8Array(),
  exceptionError: new EVMError(EVMError.errorMessages.OUT_OF_GAS),
})

type Behaviour = (gasLimit: bigint, call: number) => ExecResult

/** A node whose precompile at ADDRESS does what `behaviour` says for the gas it is given. */
async function withNode(name: string, behaviour: Behaviour, body: (node: LatticeNode) => Promise<void>) {
  let calls = 0
  const precompile = {
    address: createAddressFromString(ADDRESS),
    function: async (input: PrecompileInput): Promise<ExecResult> => behaviour(input.gasLimit, ++calls),
  }
  const chain = await Chain.open({
    datadir: join(tmp, name),
    spec: loadChainSpec(),
    evmOpts: { customPrecompiles: [precompile] },
  })
  const node = new LatticeNode({ chain })
  try {
    await body(node)
  } finally {
    await node.close()
  }
}

// one calldata byte, so this is not the plain value transfer that is estimated at 21000 without a search
const req = { to: createAddressFromString(ADDRESS), gas: CAP, data: new Uint8Array([0]) }

describe('eth_estimateGas search', () => {
  it('searches past out-of-gas halts to the least limit that succeeds (control)', async () => {
    // succeeds with at least 50,000 gas for itself, halts out of gas below
    await withNode(
      'control',
      (g) => (g >= 50_000n ? ok() : oog(g)),
      async (node) => {
        const est = await node.estimateGas(req, node.chain.head)
        expect(est).toBeGreaterThanOrEqual(71_000n)
        expect(est).toBeLessThan((71_100n * 1015n) / 1000n)
      },
    )
  }, 60_000)

  it('a node failure on the exact-gas check propagates (it is not "needs more gas")', async () => {
    // the first execution (at the cap) succeeds; the second one fails inside the node
    await withNode(
      'exact',
      (_g, call) => {
        if (call === 2) throw new Error('model store unavailable')
        return ok()
      },
      async (node) => {
        await expect(node.estimateGas(req, node.chain.head)).rejects.toThrow(OpenCheckpointError)
      },
    )
  }, 60_000)

  it('a node failure during the binary search propagates (it is not "needs more gas")', async () => {
    // with the whole cap it succeeds; at small limits it halts out of gas, so the search starts; any limit in
    // between makes the node fail
    await withNode(
      'bisect',
      (g) => {
        if (g >= NEAR_FULL) return ok()
        if (g < 10_000n) return oog(g)
        throw new Error('model store unavailable')
      },
      async (node) => {
        await expect(node.estimateGas(req, node.chain.head)).rejects.toThrow(OpenCheckpointError)
      },
    )
  }, 60_000)
})
