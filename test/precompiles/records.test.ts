import { createEVM } from '@ethereumjs/evm'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { keccak256 as keccak_256 } from 'ethereum-cryptography/keccak.js'
import { keccak256 as ethersKeccak, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blockInferenceRoot } from '../../src/chain/inference-roots.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { decodeInfer, encodeTensors } from '../../src/precompiles/abi.ts'
import type { PendingRecord } from '../../src/precompiles/records.ts'
import { CallTracker, ownedRecord, pendingRecord } from '../../src/precompiles/records.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

/** Records `pending` in the frame of one real top-level message on a real EVM; returns what the tracker hands over. */
async function trackOne(pending: PendingRecord[]) {
  const evm = await createEVM()
  const tracker = new CallTracker(evm)
  // registered after the tracker's own listener, so the message's frame is open
  evm.events!.on('beforeMessage', () => {
    for (const p of pending) tracker.record(p)
  })
  await evm.runCall({ to: createAddressFromString('0x00000000000000000000000000000000000000aa'), gasLimit: 100_000n })
  return tracker.takeTx()
}

describe('inference records', () => {
  const inputs = [tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])]
  const outputs = [tensorFromValues('y', DType.float32, [1, 3], [0.9, 0.07, 0.03])]

  it('are hashed only when read, once, to the same values as hashing at record time', async () => {
    let hashed = 0
    const counting = (d: Uint8Array) => {
      hashed++
      return keccak_256(d)
    }
    const [r] = await trackOne([pendingRecord('0x01', inputs, outputs, 10n, 20n, counting)])
    // a call's records are dropped unread: nothing hashed
    expect(hashed).toBe(0)
    const eager = {
      index: 0,
      modelId: '0x01',
      inputHash: hex(keccak_256(encodeTensors(inputs))),
      outputHash: hex(keccak_256(encodeTensors(outputs))),
      flops: 10n,
      gasUsed: 20n,
    }
    // a spread (what the chain stores) gives plain values, in the same key order as before
    const spread = { ...r }
    expect(spread).toEqual(eager)
    expect(Object.keys(spread)).toEqual(Object.keys(eager))
    expect(hashed).toBe(2)
    expect(r.inputHash).toBe(eager.inputHash)
    expect(r.outputHash).toBe(eager.outputHash)
    expect(hashed).toBe(2)
  })

  it("hash the tensors as they were when recorded, though the caller's memory changes after the call", async () => {
    // calldata of a CALL is a view of the calling contract's memory (ethereumjs does not copy it)
    const memory = new Uint8Array(64)
    const view = tensorFromValues('x', DType.float32, [1, 4], [1, 2, 3, 4])
    memory.set(view.data, 8)
    const aliased = { ...view, data: memory.subarray(8, 8 + view.data.length) }
    const want = hex(keccak_256(encodeTensors([aliased])))
    const pending = pendingRecord('0x02', [aliased], outputs, 1n, 1n, keccak_256)
    memory.fill(0xff)
    const [r] = await trackOne([pending])
    expect(r.inputHash).toBe(want)
  })

  it("of the precompile's own tensors are encoded only when read, to the same bytes and hashes", async () => {
    const big = tensorFromValues(
      'img',
      DType.float32,
      [1, 3, 8, 8],
      Array.from({ length: 192 }, (_, i) => i / 7),
    )
    const owned = ownedRecord('0x03', [big, ...inputs], outputs, 5n, 6n, keccak_256)
    const copied = pendingRecord('0x03', [big, ...inputs], outputs, 5n, 6n, keccak_256)
    // nothing is encoded at record time: a getter, not a value, until the chain reads it
    expect(Object.getOwnPropertyDescriptor(owned, 'inputBytes')?.get).toBeDefined()
    const [a, b] = await trackOne([owned, copied])
    expect(hex(owned.inputBytes)).toBe(hex(copied.inputBytes))
    expect(hex(owned.outputBytes)).toBe(hex(copied.outputBytes))
    // encoded once
    expect(owned.inputBytes).toBe(owned.inputBytes)
    expect({ ...a, index: 0 }).toEqual({ ...b, index: 0 })
    expect(a!.inputHash).toBe(hex(keccak_256(encodeTensors([big, ...inputs]))))
  })

  it('index records in the order they were made', async () => {
    const rs = await trackOne([
      pendingRecord('0x0a', inputs, outputs, 1n, 2n, keccak_256),
      pendingRecord('0x0b', outputs, inputs, 3n, 4n, keccak_256),
    ])
    expect(rs.map((r) => [r.index, r.modelId, r.flops, r.gasUsed])).toEqual([
      [0, '0x0a', 1n, 2n],
      [1, '0x0b', 3n, 4n],
    ])
    expect(rs[1].inputHash).toBe(hex(keccak_256(encodeTensors(outputs))))
  })
})

describe('inference records of mined transactions', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet
  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    provider.pollingInterval = 50
    wallet = new Wallet(KEY0, provider)
  }, 180_000)
  afterAll(async () => {
    provider.destroy()
    await devnet.stop()
  })

  it('keep the hashes and root of the full calldata encoding; eth_call stores none', async () => {
    const iris = exampleModel('iris')
    const { modelId } = await deployModel(devnet.store, wallet, iris.bytes, { name: 'iris' })
    const x = tensorFromValues('x', DType.float32, [2, 4], [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3])
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const ret = await provider.call({ to: INFERENCE, data })
    const head = devnet.node.chain.head
    const receipt = await (await wallet.sendTransaction({ to: INFERENCE, data })).wait()
    expect(devnet.node.chain.head.header.number).toBe(head.header.number + 1n)
    const block = devnet.node.chain.head
    const records = await devnet.node.chain.getInferenceRecords(block.hash())
    expect(records).toHaveLength(1)
    // computed here the way the precompile hashed before hashing became lazy: keccak of the re-encoded inputs
    const { inputs } = decodeInfer(hexToBytes(data as `0x${string}`))
    const want = {
      txHash: receipt!.hash,
      txIndex: 0,
      index: 0,
      modelId,
      inputHash: ethersKeccak(encodeTensors(inputs)),
      outputHash: ethersKeccak(ret),
      flops: records[0].flops,
      gasUsed: records[0].gasUsed,
    }
    expect(records[0]).toEqual(want)
    expect(await devnet.node.chain.inferenceRootOf(block)).toBe(
      blockInferenceRoot(devnet.node.chain.chainId, block, [want]),
    )
  }, 180_000)
})
