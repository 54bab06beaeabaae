// The chain's listeners follow Engine API reorgs (the registry index: a model registered on one branch exists only
// while that branch is canonical), and a payload leaves out a transaction whose inference this node cannot run.
import { createHash } from 'node:crypto'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChainCommon } from '../../src/chain/genesis.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { uploadMessage } from '../../src/rpc/uploads.ts'
import { ADDR0, KEY0, rpc } from '../helpers/devnet.ts'
import type { EngineNode } from '../helpers/engine.ts'
import { attributes, newPayloadParams, startEngineNode, ZERO_HASH } from '../helpers/engine.ts'
import { abiTensor, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

describe('Engine API reorgs and the registry index; payloads without inferences this node cannot run', () => {
  let n: EngineNode
  let other: EngineNode
  let genesis: string
  let modelId: string
  let register: ReturnType<typeof sign>
  const logs: string[] = []
  const origWrite = process.stderr.write.bind(process.stderr)

  function sign(nonce: bigint, to: `0x${string}`, data: string, gasLimit: bigint) {
    return createTx(
      {
        type: 2,
        nonce,
        to,
        data: hexToBytes(data as `0x${string}`),
        gasLimit,
        maxFeePerGas: 50_000_000_000n,
        maxPriorityFeePerGas: 1n,
        chainId: 41232n,
      },
      { common: createChainCommon(n.node.node.chain.spec) },
    ).sign(hexToBytes(KEY0))
  }

  beforeAll(async () => {
    ;[n, other] = await Promise.all([startEngineNode('osaka'), startEngineNode('osaka')])
    genesis = bytesToHex(n.node.node.chain.head.hash())
    // the engine's log lines go to stderr: keep them for the left-out check
    process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
      logs.push(String(chunk))
      return (origWrite as (...a: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof process.stderr.write
  }, 180_000)

  afterAll(async () => {
    process.stderr.write = origWrite
    await Promise.all([n?.close(), other?.close()])
  })

  const fcu = (node: EngineNode, head: string, attrs?: unknown) =>
    node.engine.ok('engine_forkchoiceUpdatedV3', [
      { headBlockHash: head, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
      attrs ?? null,
    ])
  const getModel = async (node: EngineNode) => (await rpc(node.rpcUrl, 'lattice_getModel', [modelId])).result

  it('a model registered on one branch is indexed while that branch is canonical, and not after a reorg', async () => {
    const bytes = exampleModel('iris').bytes
    const files = [{ name: 'model.onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }]
    const expires = Math.floor(Date.now() / 1000) + 600
    const signature = await new Wallet(KEY0).signMessage(
      uploadMessage({ chainId: 41232n, sender: ADDR0, files, expires }),
    )
    const d = await rpc(n.rpcUrl, 'lattice_deployModel', [
      {
        model: Buffer.from(bytes).toString('base64'),
        name: 'iris',
        from: ADDR0,
        send: false,
        auth: { expires, signature },
      },
    ])
    expect(d.error, JSON.stringify(d.error)).toBeUndefined()
    modelId = d.result.modelId
    const ts = n.genesisTimestamp
    // branch B: empty; branch A: the registration
    const b = await n.engine.ok('engine_getPayloadV5', [
      (await fcu(n, genesis, attributes(3, ts + 12n, `0x${'bb'.repeat(20)}`))).payloadId,
    ])
    register = sign(0n, d.result.transaction.to, d.result.transaction.data, 3_000_000n)
    expect((await rpc(n.rpcUrl, 'eth_sendRawTransaction', [bytesToHex(register.serialize())])).error).toBeUndefined()
    const a = await n.engine.ok('engine_getPayloadV5', [
      (await fcu(n, genesis, attributes(3, ts + 12n, `0x${'aa'.repeat(20)}`))).payloadId,
    ])
    expect(a.executionPayload.transactions).toHaveLength(1)
    for (const p of [a, b])
      expect((await n.engine.ok('engine_newPayloadV4', newPayloadParams(4, p))).status).toBe('VALID')
    expect(await getModel(n)).toBeNull()
    await fcu(n, a.executionPayload.blockHash)
    expect((await getModel(n))?.modelId).toBe(modelId)
    await fcu(n, b.executionPayload.blockHash)
    expect(await getModel(n)).toBeNull()
    expect((await rpc(n.rpcUrl, 'lattice_listModels', [])).result.total).toBe(0)
    await fcu(n, a.executionPayload.blockHash)
    expect((await getModel(n))?.modelId).toBe(modelId)
    // the other node follows branch A (a registration needs no model bytes)
    expect((await other.engine.ok('engine_newPayloadV4', newPayloadParams(4, a))).status).toBe('VALID')
    await fcu(other, a.executionPayload.blockHash)
    expect((await getModel(other))?.modelId).toBe(modelId)
  }, 180_000)

  it('a payload leaves out an inference whose model bytes this node does not have, and logs it', async () => {
    const head = bytesToHex(other.node.node.chain.head.hash())
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const infer = sign(1n, INFERENCE as `0x${string}`, data, 2_000_000n)
    expect((await rpc(other.rpcUrl, 'eth_sendRawTransaction', [bytesToHex(infer.serialize())])).error).toBeUndefined()
    const ts = other.node.node.chain.head.header.timestamp
    const got = await other.engine.ok('engine_getPayloadV5', [
      (await fcu(other, head, attributes(3, ts + 12n))).payloadId,
    ])
    expect(got.executionPayload.transactions).toEqual([])
    expect(logs.join('')).toContain(`leaves out transaction ${bytesToHex(infer.hash())}`)
    // the payload is a valid block: the node that has the bytes accepts it
    expect((await n.engine.ok('engine_newPayloadV4', newPayloadParams(4, got))).status).toBe('VALID')
  }, 180_000)
})
