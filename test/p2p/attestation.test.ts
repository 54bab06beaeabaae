// Two validator nodes on loopback: A (dev account #0's key) mines an inference block with a model deployed
// through A; B (account #1's key), which never saw the model, imports A's blocks, fetching the model's bytes from A
// by CID over bitswap (digest checked), and signs the block's inference root. Each node's signature reaches the
// other over attestation gossip, so lattice_getInferenceProof from either carries both; forged signatures
// (a key outside the validator set, a root this node did not compute) are refused.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { peerIdFromString } from '@libp2p/peer-id'
import { JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAttestation } from '../../src/chain/attestor.ts'
import { encodeAttestationMessage } from '../../src/p2p/attestation-gossip.ts'
import { sendMessage } from '../../src/p2p/wire.ts'
import { parseKey, recoverSigner, signInferenceRoot } from '../../src/proofs/attestation.ts'
import { createModelCache } from '../../src/storage/cache.ts'
import type { EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { ADDR0, ADDR1, CHAIN_ID, KEY0, KEY1, rpc } from '../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import type { TestPeer } from '../helpers/p2p.ts'
import { startPeer, stopPeer, waitFor, writeTwoValidatorGenesis } from '../helpers/p2p.ts'

/** anvil's account #2: funded, not a validator. */
const KEY2 = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'

describe('model fetch and attestation gossip between two validators', () => {
  const root = mkdtempSync(join(tmpdir(), 'lattice-attest-'))
  const genesis = writeTwoValidatorGenesis(root)
  let a: TestPeer
  let b: TestPeer
  let provider: JsonRpcProvider
  let model: { modelId: string; cid: string; digest: string }
  let txHash: string
  beforeAll(async () => {
    a = await startPeer(genesis, { mining: { kind: 'auto' }, validatorKey: KEY0 })
    b = await startPeer(genesis, { bootnodes: [a.enode], validatorKey: KEY1 })
    provider = new JsonRpcProvider(a.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  })
  afterAll(async () => {
    provider?.destroy()
    await stopPeer(b)
    await stopPeer(a)
    rmSync(root, { recursive: true, force: true })
  })

  it('B fetches a model deployed through A by CID, checking its digest, while importing A’s blocks', async () => {
    const wallet = new Wallet(KEY0, provider)
    const iris = exampleModel('iris')
    model = await deployModel(a.store, wallet, iris.bytes, { name: 'iris' })
    const data = inferenceAbi.encodeFunctionData('infer', [model.modelId, iris.sampleInput.map(abiTensor)])
    const receipt = await (await wallet.sendTransaction({ to: INFERENCE, data })).wait()
    expect(receipt?.status).toBe(1)
    txHash = receipt!.hash
    await waitFor('B to peer with A', () => b.peering!.peerCount() > 0)

    const storeB = b.store as EmbeddedModelStore
    expect(await storeB.has(model.cid)).toBe(false)
    // the bytes come from A, but only under the digest the registry names
    const cache = createModelCache({ dir: join(root, 'cache-check'), store: b.store })
    await expect(cache.getModelBytes(model.cid, `0x${'11'.repeat(32)}`)).rejects.toThrow(/digest|match/i)

    const chainA = a.node.chain
    const chainB = b.node.chain
    for (let n = 1n; n <= chainA.head.header.number; n++) {
      const block = (await chainA.getBlockByNumber(n))!
      expect(await chainB.exclusive(() => chainB.importBlock(block))).toBe('imported')
    }
    expect(bytesToHex(chainB.head.header.stateRoot)).toBe(bytesToHex(chainA.head.header.stateRoot))
    expect(await storeB.has(model.cid)).toBe(true)
    const blockA = (await chainA.getTransaction(Buffer.from(txHash.slice(2), 'hex')))!.block
    expect(await chainB.inferenceRootOf(blockA)).toBe(await chainA.inferenceRootOf(blockA))
  })

  it('each node holds both validators’ signatures, and lattice_getInferenceProof returns them', async () => {
    const hashBytes = Buffer.from(txHash.slice(2), 'hex')
    const block = (await a.node.chain.getTransaction(hashBytes))!.block
    for (const node of [a, b]) {
      await waitFor('two signatures', async () => {
        return (await readAttestation(node.node.chain, block.hash()))?.signatures.length === 2
      })
    }
    const expected = [ADDR0.toLowerCase(), ADDR1.toLowerCase()].sort()
    for (const node of [a, b]) {
      const proof = (await rpc(node.url, 'lattice_getInferenceProof', [txHash])).result
      expect(proof.signatures.map((s: { signer: string }) => s.signer)).toEqual(expected)
      for (const s of proof.signatures) {
        const msg = {
          chainId: BigInt(CHAIN_ID),
          blockNumber: BigInt(proof.blockNumber),
          blockHash: proof.blockHash,
          inferenceRoot: proof.root,
        }
        expect(recoverSigner(msg, s.signature)).toBe(s.signer)
      }
    }
    expect(b.peering!.attestations.stats.accepted).toBeGreaterThanOrEqual(1)
    expect(a.peering!.attestations.stats.accepted).toBeGreaterThanOrEqual(1)
  })

  it('refuses a signature from outside the validator set and one over a root it did not compute', async () => {
    const block = (await a.node.chain.getTransaction(Buffer.from(txHash.slice(2), 'hex')))!.block
    const blockHash = bytesToHex(block.hash())
    const root = await b.node.chain.inferenceRootOf(block)
    const msg = { chainId: BigInt(CHAIN_ID), blockNumber: block.header.number, blockHash, inferenceRoot: root }
    const outsider = signInferenceRoot(msg, parseKey(KEY2))
    const wrongRoot = `0x${'42'.repeat(32)}`
    const lying = signInferenceRoot({ ...msg, inferenceRoot: wrongRoot }, parseKey(KEY0))
    const before = b.peering!.attestations.stats.rejected
    const libp2pA = (a.store as EmbeddedModelStore).network!.libp2p
    const bId = peerIdFromString(b.peering!.nodeInfo().id)
    const protocol = b.peering!.protocols.attestation
    const send = (m: Parameters<typeof encodeAttestationMessage>[0]) =>
      sendMessage(libp2pA, bId, protocol, encodeAttestationMessage(m))
    await send({ blockHash, blockNumber: block.header.number, inferenceRoot: root, signatures: [outsider] })
    await send({ blockHash, blockNumber: block.header.number, inferenceRoot: wrongRoot, signatures: [lying] })
    // a validator's valid signature claimed for someone else: does not recover to the claimed signer
    const stolen = { signer: ADDR1.toLowerCase(), signature: signInferenceRoot(msg, parseKey(KEY0)).signature }
    const fresh = await startPeer(genesis, { bootnodes: [a.enode] })
    try {
      await waitFor('B to refuse two', () => b.peering!.attestations.stats.rejected >= before + 2)
      // the new node has not executed the block: A's real signatures (sent as it connected) wait for it; the stolen
      // one does not recover to the signer it names, so it is refused at once
      const freshId = peerIdFromString(fresh.peering!.nodeInfo().id)
      await waitFor('the new node to reach A', () => libp2pA.getPeers().some((p) => p.equals(freshId)))
      await sendMessage(
        libp2pA,
        freshId,
        protocol,
        encodeAttestationMessage({
          blockHash,
          blockNumber: block.header.number,
          inferenceRoot: root,
          signatures: [stolen],
        }),
      )
      await waitFor('the stolen signature refused', () => fresh.peering!.attestations.stats.rejected === 1)
      await waitFor('A’s signatures to wait for the block', () => fresh.peering!.attestations.stats.waiting === 2)
      expect(await readAttestation(fresh.node.chain, block.hash())).toBeUndefined()
      // once it has executed the block, A's two are judged and kept
      const chainF = fresh.node.chain
      for (let n = 1n; n <= a.node.chain.head.header.number; n++) {
        const blk = (await a.node.chain.getBlockByNumber(n))!
        await chainF.exclusive(() => chainF.importBlock(blk))
      }
      await waitFor('the waiting signatures to be judged', () => fresh.peering!.attestations.stats.waiting === 0)
      await waitFor(
        'two signatures',
        async () => (await readAttestation(chainF, block.hash()))?.signatures.length === 2,
      )
      const got = await readAttestation(chainF, block.hash())
      expect(got?.signatures.map((s) => s.signer)).toEqual([ADDR0.toLowerCase(), ADDR1.toLowerCase()].sort())
      expect(got?.signatures.find((s) => s.signer === ADDR1.toLowerCase())?.signature).not.toBe(stolen.signature)
      expect(fresh.peering!.attestations.stats.rejected).toBe(1)
    } finally {
      await stopPeer(fresh)
    }
    const held = await readAttestation(b.node.chain, block.hash())
    expect(held?.signatures.map((s) => s.signer)).toEqual([ADDR0.toLowerCase(), ADDR1.toLowerCase()].sort())
    expect(held?.inferenceRoot).toBe(root)
  })
  it('without a peer holding the model the import halts (node-local, not invalid) after the fetch timeout', async () => {
    // a node with peering on but no peer yet, and a short fetch timeout
    const lone = await startPeer(genesis, { ipfsNetwork: { fetchTimeoutMs: 3000 } })
    try {
      const chainA = a.node.chain
      const chainL = lone.node.chain
      const txBlock = (await chainA.getTransaction(Buffer.from(txHash.slice(2), 'hex')))!.block.header.number
      let halted: unknown
      for (let n = 1n; n <= txBlock; n++) {
        const block = (await chainA.getBlockByNumber(n))!
        try {
          await chainL.exclusive(() => chainL.importBlock(block))
        } catch (err) {
          halted = err
          break
        }
      }
      expect(halted).toMatchObject({ code: 'BLOCK_IMPORT_HALTED' })
      expect((halted as Error).message).toMatch(
        new RegExp(
          `cannot execute block ${txBlock} on this node: model ${model.modelId}.*is not available on this node.*not judged invalid`,
        ),
      )
      expect(chainL.head.header.number).toBe(txBlock - 1n)
      // once a peer has it, the same block imports
      expect((await rpc(lone.url, 'admin_addPeer', [a.enode])).result).toBe(true)
      await waitFor('the lone node to reach A', () => lone.peering!.peerCount() > 0)
      const block = (await chainA.getBlockByNumber(txBlock))!
      expect(await chainL.exclusive(() => chainL.importBlock(block))).toBe('imported')
      expect(await chainL.inferenceRootOf(block)).toBe(await chainA.inferenceRootOf(block))
    } finally {
      await stopPeer(lone)
    }
  })
})
