// Issue 11 item 1 on the import path: a block with an inference this node cannot run (the model's bytes are not
// obtainable here) stops the import with a clear error that does not call the block invalid, and leaves the
// chain at its last good head with no state checkpoint open.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Block } from '@ethereumjs/block'
import { createAddressFromString } from '@ethereumjs/util'
import { JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Chain } from '../../src/chain/chain.ts'
import { checkpointDepth } from '../../src/chain/checkpoints.ts'
import { ImportHaltedError } from '../../src/chain/errors.ts'
import { loadChainSpec } from '../../src/chain/genesis.ts'
import { createSessionCache } from '../../src/inference/cache.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { createInferencePrecompile } from '../../src/precompiles/inference.ts'
import { ADDR0, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-import-halt-'))
const blocks: Block[] = []
let inferenceBlock = 0n

beforeAll(async () => {
  const devnet = await startTestDevnet({ datadir: join(tmp, 'source') })
  const provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  try {
    const { modelId } = await deployModel(devnet.store, new Wallet(KEY0, provider), exampleModel('iris').bytes, {
      name: 'iris',
    })
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const sent = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR0, to: INFERENCE, data }])
    expect(sent.error).toBeUndefined()
    const receipt = await rpc(devnet.url, 'eth_getTransactionReceipt', [sent.result])
    expect(receipt.result.status).toBe('0x1')
    inferenceBlock = BigInt(receipt.result.blockNumber)
    const chain = devnet.node.chain
    for (let n = 1n; n <= chain.head.header.number; n++) blocks.push((await chain.getBlockByNumber(n))!)
  } finally {
    provider.destroy()
    await devnet.stop()
  }
}, 180_000)

afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('importing a block whose model this node cannot get', () => {
  it('stops at that block with ImportHaltedError, head and state intact, no checkpoint open', async () => {
    const inference = createInferencePrecompile({
      models: {
        getModelBytes: async () => {
          throw new Error('no IPFS peer has it')
        },
      },
      sessions: createSessionCache(),
    })
    const chain = await Chain.open({ datadir: join(tmp, 'replica'), spec: loadChainSpec(), inference })
    try {
      let err: unknown
      for (const b of blocks) {
        try {
          await chain.exclusive(() => chain.importBlock(b))
        } catch (e) {
          err = e
          break
        }
      }
      expect(err).toBeInstanceOf(ImportHaltedError)
      expect((err as ImportHaltedError).number).toBe(inferenceBlock)
      expect((err as Error).message).toMatch(
        new RegExp(
          `^cannot execute block ${inferenceBlock} on this node: model 0x[0-9a-f]{64} .*is not available on this node: no IPFS peer has it\\. The block is not judged invalid`,
        ),
      )
      expect(checkpointDepth(chain.vm)).toBe(0)
      expect(chain.head.header.number).toBe(inferenceBlock - 1n)
      // the head's state is whole: readable, and a later state root can still be written (the same block imports
      // once the model is there; here, the block before it re-imports as known)
      const sm = await chain.stateAt(chain.head)
      expect((await sm.getAccount(createAddressFromString(ADDR0)))?.nonce).toBeGreaterThan(0n)
      expect(await chain.exclusive(() => chain.importBlock(blocks[Number(inferenceBlock) - 2]))).toBe('known')
      expect(inference.stats.localFailures).toBe(1)
    } finally {
      await chain.close()
    }
  }, 180_000)
})
