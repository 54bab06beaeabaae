// A node whose inference runtime differs from the chain's (here: native consensus-v1 replaying a consensus-v2
// chain on the same CPU) cannot reproduce the state root; the import error names the block and each inference
// with the model id and the output hash this node computed.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, describe, expect, it } from 'vitest'
import { exportBlockFile, importBlockFile } from '../../src/chain/blockfile.ts'
import { Chain } from '../../src/chain/chain.ts'
import { BlockImportError } from '../../src/chain/errors.ts'
import { openInferenceStack } from '../../src/cli/stack.ts'
import { CONSENSUS_PROFILE_V1 } from '../../src/inference/profile.ts'
import type { EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { KEY0, startTestDevnet, type TestDevnet } from '../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

describe('importing a chain made under another inference profile', () => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f()
  })

  it('stops at the block that commits the differing outputs and lists each inference with its output hash', {
    timeout: 180_000,
  }, async () => {
    const a: TestDevnet = await startTestDevnet({ ipfsNetwork: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
    cleanup.push(() => a.stop())
    expect(a.spec.lattice.inference?.profile).toBe('consensus-v2')
    const provider = new JsonRpcProvider(a.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    cleanup.push(() => provider.destroy())
    const wallet = new Wallet(KEY0, provider)
    const iris = exampleModel('iris')
    const { modelId } = await deployModel(a.store, wallet, iris.bytes, { name: 'iris' })
    // a direct precompile call: its outputs reach state only through the block's inference root
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, iris.sampleInput.map(abiTensor)])
    const tx = await (await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: 5_000_000n })).wait()
    expect(tx?.status).toBe(1)
    await (await wallet.sendTransaction({ to: wallet.address, value: 1n })).wait()
    const inferBlock = BigInt(tx!.blockNumber)
    const [record] = await a.node.chain.getInferenceRecords((await a.node.chain.getBlockByNumber(inferBlock))!.hash())
    expect(record.modelId).toBe(modelId)

    const dir = mkdtempSync(join(tmpdir(), 'lattice-mismatch-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'chain.rlp')
    await exportBlockFile(a.node.chain, file)
    const datadirB = join(dir, 'b')
    // B fetches the model from A over IPFS, and runs it under native consensus-v1 instead of the genesis's v2
    const peers = (a.store as EmbeddedModelStore).network!.multiaddrs()
    const stackB = await openInferenceStack({
      datadir: datadirB,
      lattice: a.spec.lattice,
      network: { peers },
      profileOverride: CONSENSUS_PROFILE_V1,
    })
    cleanup.push(() => stackB.close())
    const chainB = await Chain.open({ datadir: datadirB, spec: a.spec, inference: stackB.inference })
    cleanup.push(() => chainB.close())

    const err = await importBlockFile(chainB, file).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BlockImportError)
    const msg = (err as BlockImportError).message
    // outputs reach state through the next block's inference root (a profile that also priced gas differently
    // would stop at the block itself, on its gas): either way the error lists the inference
    const at = (err as BlockImportError).number
    if (at === inferBlock + 1n) {
      expect(msg).toContain(`block ${at} is invalid: invalid block stateRoot`)
      expect(msg).toContain(`inferences of block ${inferBlock}, whose inference root this block commits:`)
    } else {
      expect(at).toBe(inferBlock)
      expect(msg).toMatch(/invalid (block stateRoot|gasUsed|receiptTrie)/)
      expect(msg).toContain(`inferences this node ran in block ${inferBlock}:`)
    }
    const m = new RegExp(`tx ${tx!.hash} inference #0: model ${modelId} output hash (0x[0-9a-f]{64})`).exec(msg)
    expect(m).not.toBeNull()
    // this node's output hash is not the chain's: the operator compares it with the validator's record
    expect(m![1]).not.toBe(record.outputHash)
    expect(msg).toContain(`(input hash ${record.inputHash})`)
    expect(msg).not.toContain('vm hf=')
    expect(chainB.head.header.number).toBe(at - 1n)
  })
})
