// Peering on a network driven over the Engine API (a scripted consensus side): two validator nodes, A and B,
// peered by --bootnodes. A model is deployed through A only; transactions are sent to A only. A builds each
// block, B executes it through newPayload: B has the transactions in its pool by gossip, fetches the model's
// bytes from A by CID when the inference block runs, and signs the block's root once the consensus side makes it
// the head; both nodes end up holding both validators' signatures, served by lattice_getInferenceProof.
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initDatadir } from '../../src/chain/datadir.ts'
import { createChainCommon, loadChainSpec } from '../../src/chain/genesis.ts'
import type { RunningNode } from '../../src/cli/node.ts'
import { startNode } from '../../src/cli/node.ts'
import { loadOrCreateJwtSecret } from '../../src/engine/jwt.ts'
import { recoverSigner } from '../../src/proofs/attestation.ts'
import { uploadMessage } from '../../src/rpc/uploads.ts'
import type { EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { ADDR0, ADDR1, KEY0, KEY1, rpc } from '../helpers/devnet.ts'
import { EngineClient, newPayloadParams, produceBlock, writeGenesis, ZERO_HASH } from '../helpers/engine.ts'
import { abiTensor, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import { waitFor } from '../helpers/p2p.ts'

interface Peer {
  running: RunningNode
  engine: EngineClient
  url: string
}

describe('peering between Engine API validators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-engine-p2p-'))
  let genesisPath: string
  let a: Peer
  let b: Peer

  const start = async (name: string, validatorKey: string, bootnodes?: string[]): Promise<Peer> => {
    const datadir = join(dir, name)
    await initDatadir({ datadir, genesisPath })
    const jwtSecretPath = join(dir, `${name}.jwt`)
    const running = await startNode({
      datadir,
      port: 0,
      authrpc: { port: 0, jwtSecretPath },
      p2p: { port: 0, bootnodes },
      validatorKey,
      callLimits: { timeoutMs: 120_000 },
    })
    const engine = new EngineClient(running.engine!.url, loadOrCreateJwtSecret(jwtSecretPath).secret)
    return { running, engine, url: running.server.url }
  }

  beforeAll(async () => {
    genesisPath = writeGenesis(dir, 'osaka')
    const g = JSON.parse(readFileSync(genesisPath, 'utf8'))
    g.config.lattice.validators = [ADDR0, ADDR1]
    writeFileSync(genesisPath, JSON.stringify(g, null, 2))
    a = await start('a', KEY0)
    b = await start('b', KEY1, [a.running.peering!.nodeInfo().enode])
    await waitFor('B to peer with A', () => b.running.peering!.peerCount() > 0)
  })
  afterAll(async () => {
    await b?.running.close()
    await a?.running.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('B runs A’s inference block with the model fetched from A, and both hold both signatures', async () => {
    const common = createChainCommon(loadChainSpec(genesisPath))
    const sign = (nonce: bigint, to: string, data: string, gasLimit: bigint) =>
      createTx(
        {
          type: 2,
          nonce,
          to: to as `0x${string}`,
          data: hexToBytes(data as `0x${string}`),
          gasLimit,
          maxFeePerGas: 50_000_000_000n,
          maxPriorityFeePerGas: 1n,
          chainId: 41232n,
        },
        { common },
      ).sign(hexToBytes(KEY0))
    const follow = async (got: any) => {
      const status = await b.engine.ok('engine_newPayloadV4', newPayloadParams(4, got))
      expect(status.status, JSON.stringify(status)).toBe('VALID')
      await b.engine.ok('engine_forkchoiceUpdatedV3', [
        { headBlockHash: got.executionPayload.blockHash, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
      ])
    }
    const sendToA = async (raw: Uint8Array) => {
      const r = await rpc(a.url, 'eth_sendRawTransaction', [bytesToHex(raw)])
      expect(r.error, JSON.stringify(r.error)).toBeUndefined()
      // gossip: B has it pending before any block carries it
      await waitFor('the transaction in B’s pool', () => b.running.node.pool.has(r.result))
    }

    // the model goes into A's store only
    const bytes = exampleModel('iris').bytes
    const files = [{ name: 'model.onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }]
    const expires = Math.floor(Date.now() / 1000) + 600
    const signature = await new Wallet(KEY0).signMessage(
      uploadMessage({ chainId: 41232n, sender: ADDR0, files, expires }),
    )
    const deploy = await rpc(a.url, 'lattice_deployModel', [
      {
        model: Buffer.from(bytes).toString('base64'),
        name: 'iris',
        from: ADDR0,
        send: false,
        auth: { expires, signature },
      },
    ])
    expect(deploy.error, JSON.stringify(deploy.error)).toBeUndefined()
    const { modelId, transaction, cid } = deploy.result
    const storeB = b.running.store as EmbeddedModelStore
    expect(await storeB.has(cid)).toBe(false)

    const genesis = (await rpc(a.url, 'eth_getBlockByNumber', ['0x0', false])).result
    const ts = BigInt(genesis.timestamp)
    await sendToA(sign(0n, transaction.to, transaction.data, 3_000_000n).serialize())
    const one = await produceBlock(a.engine, 'osaka', genesis.hash, ts + 12n)
    expect(one.payload.transactions).toHaveLength(1)
    await follow(one.got)

    const x = exampleModel('iris').sampleInput
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, x.map(abiTensor)])
    const infer = sign(1n, INFERENCE, data, 5_000_000n)
    await sendToA(infer.serialize())
    const two = await produceBlock(a.engine, 'osaka', one.payload.blockHash, ts + 24n)
    expect(two.payload.transactions).toEqual([bytesToHex(infer.serialize())])
    await follow(two.got)
    // B executed the inference with bytes it got from A
    expect(await storeB.has(cid)).toBe(true)
    expect(b.running.node.pool.size).toBe(0)

    const txHash = bytesToHex(infer.hash())
    const signers = [ADDR0.toLowerCase(), ADDR1.toLowerCase()].sort()
    for (const p of [a, b]) {
      await waitFor('both signatures', async () => {
        const proof = (await rpc(p.url, 'lattice_getInferenceProof', [txHash])).result
        return proof?.signatures.length === 2
      })
      const proof = (await rpc(p.url, 'lattice_getInferenceProof', [txHash])).result
      expect(proof.blockHash).toBe(two.payload.blockHash)
      expect(proof.signatures.map((s: { signer: string }) => s.signer)).toEqual(signers)
      for (const s of proof.signatures) {
        const m = { chainId: 41232n, blockNumber: 2n, blockHash: proof.blockHash, inferenceRoot: proof.root }
        expect(recoverSigner(m, s.signature)).toBe(s.signer)
      }
    }
  })
})
