// An inference transaction in a payload built by one `lattice node` process validates on a second one through
// newPayload; a third started with the test-only switch that perturbs inference outputs answers INVALID, naming the
// state root and the inference, for the block that commits the inference root.
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChainCommon, loadChainSpec } from '../../src/chain/genesis.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { PERTURB_ENV } from '../../src/precompiles/test-perturb.ts'
import { uploadMessage } from '../../src/rpc/uploads.ts'
import { ADDR0, KEY0, rpc } from '../helpers/devnet.ts'
import type { EngineProcess } from '../helpers/engine.ts'
import { newPayloadParams, produceBlock, startEngineProcess, writeGenesis, ZERO_HASH } from '../helpers/engine.ts'
import { abiTensor, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

describe('an inference transaction across Engine API nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-engine-inference-'))
  const children: ChildProcess[] = []
  let builder: EngineProcess
  let validator: EngineProcess
  let perturbed: EngineProcess
  let genesisPath: string

  beforeAll(async () => {
    genesisPath = writeGenesis(dir, 'osaka')
    const sub = (name: string) => {
      const d = join(dir, name)
      mkdirSync(d, { recursive: true })
      return d
    }
    ;[builder, validator, perturbed] = await Promise.all([
      startEngineProcess(sub('a'), genesisPath, { children }),
      startEngineProcess(sub('b'), genesisPath, { children }),
      startEngineProcess(sub('c'), genesisPath, { children, env: { [PERTURB_ENV]: '*' } }),
    ])
  }, 180_000)

  afterAll(async () => {
    await Promise.all([builder?.stop(), validator?.stop(), perturbed?.stop()])
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('builds on node A, validates on node B, and node C (perturbed outputs) answers INVALID naming both', async () => {
    const common = createChainCommon(loadChainSpec(genesisPath))
    const sign = (nonce: bigint, to: `0x${string}`, data: string, gasLimit: bigint) =>
      createTx(
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
        { common },
      ).sign(hexToBytes(KEY0))
    // the model's bytes on every node's store; the registration transaction from A (nodes without dev keys answer unsigned)
    const bytes = exampleModel('iris').bytes
    const iris = Buffer.from(bytes).toString('base64')
    const wallet = new Wallet(KEY0)
    const files = [{ name: 'model.onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }]
    const deploys = await Promise.all(
      [builder, validator, perturbed].map(async (n, i) => {
        // a node without dev keys stores a package only with its sender's signature (one per deploy)
        const expires = Math.floor(Date.now() / 1000) + 600 + i
        const signature = await wallet.signMessage(uploadMessage({ chainId: 41232n, sender: ADDR0, files, expires }))
        return rpc(n.rpcUrl, 'lattice_deployModel', [
          { model: iris, name: 'iris', from: ADDR0, send: false, auth: { expires, signature } },
        ])
      }),
    )
    for (const d of deploys) expect(d.error, JSON.stringify(d.error)).toBeUndefined()
    const { modelId, transaction } = deploys[0].result
    expect(deploys[1].result.modelId).toBe(modelId)
    const register = sign(0n, transaction.to, transaction.data, 3_000_000n)
    expect(
      (await rpc(builder.rpcUrl, 'eth_sendRawTransaction', [bytesToHex(register.serialize())])).error,
    ).toBeUndefined()

    const genesis = (await rpc(builder.rpcUrl, 'eth_getBlockByNumber', ['0x0', false])).result
    const ts = BigInt(genesis.timestamp)
    const follow = async (n: EngineProcess, got: any) => {
      const status = await n.engine.ok('engine_newPayloadV4', newPayloadParams(4, got))
      if (status.status === 'VALID') {
        await n.engine.ok('engine_forkchoiceUpdatedV3', [
          { headBlockHash: got.executionPayload.blockHash, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
        ])
      }
      return status
    }
    // slot 1: the registration
    const one = await produceBlock(builder.engine, 'osaka', genesis.hash, ts + 12n)
    expect(one.payload.transactions).toHaveLength(1)
    expect((await follow(validator, one.got)).status).toBe('VALID')
    expect((await follow(perturbed, one.got)).status).toBe('VALID')

    // slot 2: an inference
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]])
    const est = await rpc(builder.rpcUrl, 'eth_estimateGas', [{ from: ADDR0, to: INFERENCE, data }])
    expect(est.error, JSON.stringify(est.error)).toBeUndefined()
    const infer = sign(1n, INFERENCE, data, (BigInt(est.result) * 12n) / 10n)
    expect((await rpc(builder.rpcUrl, 'eth_sendRawTransaction', [bytesToHex(infer.serialize())])).error).toBeUndefined()
    const two = await produceBlock(builder.engine, 'osaka', one.payload.blockHash, ts + 24n)
    expect(two.payload.transactions).toEqual([bytesToHex(infer.serialize())])
    const receipt = await rpc(builder.rpcUrl, 'eth_getTransactionReceipt', [bytesToHex(infer.hash())])
    expect(receipt.result.status).toBe('0x1')
    expect((await follow(validator, two.got)).status).toBe('VALID')
    const proofA = await rpc(builder.rpcUrl, 'lattice_getInferenceProof', [bytesToHex(infer.hash())])
    const proofB = await rpc(validator.rpcUrl, 'lattice_getInferenceProof', [bytesToHex(infer.hash())])
    expect(proofB.result.root).toBe(proofA.result.root)
    // C's outputs differ, but block 2's own results do not depend on them: its state root holds
    expect((await follow(perturbed, two.got)).status).toBe('VALID')

    // slot 3 commits block 2's inference root to state: C computes another root
    const three = await produceBlock(builder.engine, 'osaka', two.payload.blockHash, ts + 36n)
    expect((await follow(validator, three.got)).status).toBe('VALID')
    const bad = await follow(perturbed, three.got)
    expect(bad.status).toBe('INVALID')
    expect(bad.latestValidHash).toBe(two.payload.blockHash)
    expect(bad.validationError).toMatch(/stateRoot/)
    expect(bad.validationError).toContain(`model ${modelId}`)
    expect(bad.validationError).toMatch(/output hash 0x[0-9a-f]{64}/)
    // A and B agree on every block
    for (const n of ['0x1', '0x2', '0x3']) {
      const [a, b] = await Promise.all(
        [builder, validator].map(async (p) => (await rpc(p.rpcUrl, 'eth_getBlockByNumber', [n, false])).result),
      )
      expect(b.hash).toBe(a.hash)
      expect(b.stateRoot).toBe(a.stateRoot)
    }
    expect((await rpc(perturbed.rpcUrl, 'eth_blockNumber')).result).toBe('0x2')
  }, 300_000)
})
