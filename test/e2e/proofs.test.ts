import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { Contract, ContractFactory, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { INFERENCE_VERIFIER_ADDRESS } from '../../src/precompiles/addresses.ts'
import { parseKey, signInferenceRoot } from '../../src/proofs/attestation.ts'
import { verifyInferenceProof } from '../../src/proofs/merkle.ts'
import { compileContractsCached } from '../helpers/compile-cache.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, CHAIN_ID, KEY0, KEY1, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import { compileContract, REPO_ROOT } from '../helpers/solc.ts'

const ANVIL = join(
  dirname(createRequire(import.meta.url).resolve('@foundry-rs/anvil-linux-amd64/package.json')),
  'bin',
  'anvil',
)

/** Gas figures for docs/benchmarks.md, printed at the end (deterministic, so the targets are asserted too). */
const gasFigures: Record<string, bigint> = {}

function sink(): { stream: Writable; text: () => string } {
  let s = ''
  const stream = new Writable({
    write(chunk, _enc, cb) {
      s += String(chunk)
      cb()
    },
  })
  return { stream, text: () => s }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function startAnvil(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(ANVIL, ['--port', String(port), '--silent', '--chain-id', '31337'], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    try {
      const r = await rpc(url, 'eth_chainId')
      if (r.result) return { url, child }
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill()
  throw new Error('anvil did not start')
}

/** The record as a Solidity tuple, from lattice_getInferenceProof's JSON. */
const tuple = (r: any) => [
  BigInt(r.chainId),
  BigInt(r.blockNumber),
  r.txHash,
  BigInt(r.index),
  r.modelId,
  r.inputHash,
  r.outputHash,
  BigInt(r.flops),
]

const proofRecord = (r: any) => ({
  chainId: BigInt(r.chainId),
  blockNumber: BigInt(r.blockNumber),
  txHash: r.txHash,
  index: Number(r.index),
  modelId: r.modelId,
  inputHash: r.inputHash,
  outputHash: r.outputHash,
  flops: BigInt(r.flops),
})

describe('inference proofs', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let wallet: Wallet
  /** Three inferences mined in one block (N), then more blocks on top. */
  let txHashes: string[]
  let proofs: any[]
  let anvil: { url: string; child: ChildProcess }

  beforeAll(async () => {
    anvil = await startAnvil()
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 50,
    })
    wallet = new Wallet(KEY0, provider)
    const iris = await deployModel(devnet.store, wallet, exampleModel('iris').bytes, { name: 'iris' })
    await rpc(devnet.url, 'evm_setAutomine', [false])
    txHashes = []
    let nonce = await provider.getTransactionCount(ADDR0)
    for (const v of [5.1, 6.2, 7.3]) {
      const x = tensorFromValues('x', DType.float32, [1, 4], [v, 3.5, 1.4, 0.2])
      const data = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
      const tx = await wallet.sendTransaction({ to: INFERENCE, data, nonce: nonce++, gasLimit: 5_000_000 })
      txHashes.push(tx.hash)
    }
    await rpc(devnet.url, 'evm_mine')
    await rpc(devnet.url, 'evm_setAutomine', [true])
    proofs = []
    for (const h of txHashes) {
      const r = await rpc(devnet.url, 'lattice_getInferenceProof', [h])
      expect(r.error).toBeUndefined()
      proofs.push(r.result)
    }
  }, 60_000)
  afterAll(async () => {
    // the gas rows of docs/benchmarks.md (`npx vitest run test/e2e/proofs.test.ts`)
    if (Object.keys(gasFigures).length) console.log('proof gas', gasFigures)
    provider?.destroy()
    anvil?.child.kill()
    await devnet?.stop()
  })

  it('lattice_getInferenceProof serves record, path, root and the validator signature', async () => {
    const blockNumbers = new Set(proofs.map((p) => p.blockNumber))
    expect(blockNumbers.size).toBe(1)
    for (const [i, p] of proofs.entries()) {
      expect(p.record.txHash).toBe(txHashes[i])
      expect(Number(p.record.chainId)).toBe(CHAIN_ID)
      expect(p.root).toBe(proofs[0].root)
      expect(verifyInferenceProof(proofRecord(p.record), p.proof, p.root)).toBe(true)
      expect(p.signatures).toEqual([expect.objectContaining({ signer: ADDR0.toLowerCase() })])
    }
    // three leaves: two siblings for the first pair, one (the promoted third leaf) for... and vice versa
    expect(proofs.map((p) => p.proof.length)).toEqual([2, 2, 1])
    const missing = await rpc(devnet.url, 'lattice_getInferenceProof', [txHashes[0], '0x5'])
    expect(missing.error.message).toMatch(/no inference record with index 5/)
  })

  it('a transaction in block N+k acts on an inference of block N through verifyInference; tampering is refused', async () => {
    const { abi, bytecode } = compileContract(`${REPO_ROOT}test/fixtures/InferenceConsumer.sol`, 'InferenceConsumer')
    const consumer = (await new ContractFactory(abi, bytecode, wallet).deploy()) as any
    await consumer.waitForDeployment()
    await (await wallet.sendTransaction({ to: ADDR0, value: 1n })).wait()
    const p = proofs[1]
    const tx = await consumer.act(tuple(p.record), p.proof)
    const receipt = await tx.wait()
    expect(BigInt(receipt.blockNumber)).toBeGreaterThanOrEqual(BigInt(p.blockNumber) + 3n)
    expect(await consumer.accepted()).toBe(1n)
    expect(await consumer.lastOutput()).toBe(p.record.outputHash)

    const verifier = new Contract(
      INFERENCE_VERIFIER_ADDRESS,
      compileContractsCached().InferenceVerifier.abi as any,
      provider,
    ) as any
    expect(await verifier.rootOf(BigInt(p.blockNumber))).toBe(p.root)
    expect(await verifier.verifyInference(tuple(p.record), p.proof)).toBe(true)
    const bad = [
      { ...p.record, outputHash: p.record.inputHash },
      { ...p.record, flops: '0x1' },
      { ...p.record, index: '0x1' },
      { ...p.record, blockNumber: `0x${(BigInt(p.blockNumber) + 1n).toString(16)}` },
      { ...p.record, chainId: '0x1' },
    ]
    for (const r of bad) expect(await verifier.verifyInference(tuple(r), p.proof)).toBe(false)
    expect(await verifier.verifyInference(tuple(p.record), [p.proof[1], p.proof[0]])).toBe(false)
    expect(await verifier.verifyInference(tuple(p.record), p.proof.slice(1))).toBe(false)
    await expect(consumer.act(tuple(bad[0]), p.proof)).rejects.toThrow(/no such inference/)
    // only the system address may write roots
    const forged = await wallet.sendTransaction({
      to: INFERENCE_VERIFIER_ADDRESS,
      data: `0x${'00'.repeat(63)}01`,
      gasLimit: 100_000,
    })
    await expect(forged.wait()).rejects.toThrow()

    const [ok, gasUsed] = await consumer.measure(tuple(p.record), p.proof)
    expect(ok).toBe(true)
    gasFigures.verifyInference = gasUsed
    gasFigures.verifyInferenceTx = await verifier.verifyInference.estimateGas(tuple(p.record), p.proof)
    expect(gasFigures.verifyInferenceTx).toBeLessThan(60_000n)
  })

  it('the light verifier on anvil accepts a proof from the running devnet, and refuses outsiders, other chains and replays', async () => {
    const other = new JsonRpcProvider(anvil.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 50,
    })
    try {
      const deployer = new Wallet(KEY1, other)
      const art = compileContractsCached().LatticeInferenceLightVerifier
      const validators = devnet.spec.lattice.validators ?? []
      expect(validators.map((v) => v.toLowerCase())).toEqual([ADDR0.toLowerCase()])
      const light = (await new ContractFactory(art.abi as any, art.bytecode, deployer).deploy(
        CHAIN_ID,
        validators,
        1,
      )) as any
      await light.waitForDeployment()

      const p = (await rpc(devnet.url, 'lattice_getInferenceProof', [txHashes[2]])).result
      const sigs = p.signatures.map((s: any) => s.signature)
      const args = (r: any, proof: string[], blockHash: string, root: string, signatures: string[]) => [
        tuple(r),
        proof,
        blockHash,
        root,
        signatures,
      ]
      expect(await light.verifyInference(...args(p.record, p.proof, p.blockHash, p.root, sigs))).toBe(true)
      gasFigures.lightVerifierTx = await light.verifyInference.estimateGas(
        ...args(p.record, p.proof, p.blockHash, p.root, sigs),
      )
      expect(gasFigures.lightVerifierTx).toBeLessThan(80_000n)

      // a tampered record or path
      expect(
        await light.verifyInference(...args({ ...p.record, flops: '0x2' }, p.proof, p.blockHash, p.root, sigs)),
      ).toBe(false)
      // a key outside the validator set signs the same root
      const m = {
        chainId: BigInt(CHAIN_ID),
        blockNumber: BigInt(p.blockNumber),
        blockHash: p.blockHash,
        inferenceRoot: p.root,
      }
      const outsider = signInferenceRoot(m, parseKey(KEY1)).signature
      expect(await light.verifyInference(...args(p.record, p.proof, p.blockHash, p.root, [outsider]))).toBe(false)
      // the validator's signature for another chain id
      const otherChain = signInferenceRoot({ ...m, chainId: 1n }, parseKey(KEY0)).signature
      expect(await light.verifyInference(...args(p.record, p.proof, p.blockHash, p.root, [otherChain]))).toBe(false)
      expect(
        await light.verifyInference(...args({ ...p.record, chainId: '0x1' }, p.proof, p.blockHash, p.root, sigs)),
      ).toBe(false)
      // a verifier deployed for another chain id refuses the real proof
      const wrong = (await new ContractFactory(art.abi as any, art.bytecode, deployer).deploy(1, validators, 1)) as any
      await wrong.waitForDeployment()
      expect(await wrong.verifyInference(...args(p.record, p.proof, p.blockHash, p.root, sigs))).toBe(false)
      // the signed root replayed for another block: a record claimed for block N+1 under N's signed root
      const later = { ...p.record, blockNumber: `0x${(BigInt(p.blockNumber) + 1n).toString(16)}` }
      expect(await light.verifyInference(...args(later, p.proof, p.blockHash, p.root, sigs))).toBe(false)
      // and the same signature presented with another block's hash
      const otherBlock = await provider.getBlock(Number(p.blockNumber) + 1)
      expect(await light.verifyInference(...args(p.record, p.proof, otherBlock!.hash!, p.root, sigs))).toBe(false)
      // the same signature twice does not count twice (threshold 2 of a one-validator set is refused at deploy)
      expect(await light.verifyInference(...args(p.record, p.proof, p.blockHash, p.root, [sigs[0], sigs[0]]))).toBe(
        false,
      )
    } finally {
      other.destroy()
    }
  })

  it('lattice proof get / verify / deploy-verifier: exit 0 only for a valid proof, on Lattice and on anvil', async () => {
    const { proofGetCommand } = await import('../../src/cli/commands/proof-get.ts')
    const { proofVerifyCommand } = await import('../../src/cli/commands/proof-verify.ts')
    const { proofDeployVerifierCommand } = await import('../../src/cli/commands/proof-deploy-verifier.ts')
    const run = async (cmd: any, opts: Record<string, unknown>) => {
      const out = sink()
      const err = sink()
      // a command's errors are thrown (the CLI's runner prints them and exits 1): exit code 1 here
      const code = await cmd.run([], opts, { stdout: out.stream, stderr: err.stream, isTTY: false }).catch(() => 1)
      return { code, out: out.text(), err: err.text() }
    }
    const got = await run(proofGetCommand, { tx: txHashes[0], rpcUrl: devnet.url })
    expect(got.code).toBe(0)
    const proof = JSON.parse(got.out)
    expect(proof.root).toBe(proofs[0].root)
    const dir = mkdtempSync(join(tmpdir(), 'lattice-proof-'))
    const good = join(dir, 'good.json')
    writeFileSync(good, got.out)
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ ...proof, record: { ...proof.record, outputHash: proof.record.inputHash } }))

    expect(await run(proofVerifyCommand, { proof: good, rpcUrl: devnet.url })).toMatchObject({ code: 0 })
    expect(await run(proofVerifyCommand, { proof: bad, rpcUrl: devnet.url })).toMatchObject({ code: 1 })
    expect((await run(proofGetCommand, { tx: `0x${'12'.repeat(32)}`, rpcUrl: devnet.url })).code).toBe(1)

    // validator set and chain id from the Lattice node
    const deployed = await run(proofDeployVerifierCommand, {
      rpcUrl: anvil.url,
      privateKey: KEY1,
      latticeUrl: devnet.url,
    })
    expect(deployed.err).toBe('')
    const { address, validators, threshold } = JSON.parse(deployed.out)
    expect(validators).toEqual([ADDR0])
    expect(threshold).toBe(1)
    expect(await run(proofVerifyCommand, { proof: good, rpcUrl: anvil.url, verifier: address })).toMatchObject({
      code: 0,
    })
    expect(await run(proofVerifyCommand, { proof: bad, rpcUrl: anvil.url, verifier: address })).toMatchObject({
      code: 1,
    })
    // a verifier trusting another key refuses the devnet's signatures
    const stranger = await run(proofDeployVerifierCommand, {
      rpcUrl: anvil.url,
      privateKey: KEY1,
      validators: new Wallet(KEY1).address,
      chainId: String(CHAIN_ID),
    })
    const other = JSON.parse(stranger.out).address
    expect(await run(proofVerifyCommand, { proof: good, rpcUrl: anvil.url, verifier: other })).toMatchObject({
      code: 1,
    })
  })
})
