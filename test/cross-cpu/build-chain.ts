// Builds the cross-CPU chain on this machine: a devnet under the given inference profile that registers every
// example model and the op-family graphs, then runs single, batch and failing inferences in transactions
// straight to the precompile (one per block). Writes chain.rlp, the datadir (genesis + IPFS repo with the
// model packages) and what this machine computed: head, state root and every inference record.
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { JsonRpcProvider, Wallet } from 'ethers'
import { exampleModels } from '../../examples/models/index.ts'
import { exportBlockFile } from '../../src/chain/blockfile.ts'
import type { Chain } from '../../src/chain/chain.ts'
import { loadChainSpec } from '../../src/chain/genesis.ts'
import { startDevnet } from '../../src/cli/devnet.ts'
import { KEY0 } from '../helpers/devnet.ts'
import { abiTensor, deployModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import { opGraphs } from './op-graphs.ts'

/** What a node ends at after executing the chain: compared across CPUs. */
export interface ChainResult {
  head: string
  number: string
  stateRoot: string
  /** Every inference record, in block and transaction order. */
  records: { block: string; txHash: string; index: number; modelId: string; outputHash: string }[]
}

/** Head, state root and all inference records of a chain. */
export async function chainResult(chain: Chain): Promise<ChainResult> {
  const records: ChainResult['records'] = []
  for (let n = 1n; n <= chain.head.header.number; n++) {
    const b = (await chain.getBlockByNumber(n))!
    for (const r of await chain.getInferenceRecords(b.hash())) {
      records.push({
        block: n.toString(),
        txHash: r.txHash,
        index: r.index,
        modelId: r.modelId,
        outputHash: r.outputHash,
      })
    }
  }
  return {
    head: bytesToHex(chain.head.hash()),
    number: chain.head.header.number.toString(),
    stateRoot: bytesToHex(chain.head.header.stateRoot),
    records,
  }
}

/** The chain as built: files to replay it from and this machine's result. */
export interface BuiltChain {
  datadir: string
  file: string
  result: ChainResult
  /** Model names by id, for reports. */
  models: Record<string, string>
  /** Transactions that reverted on purpose (failing inferences). */
  reverted: number
}

/** Build the chain in `dir` (wiped first) under `profile` (`consensus-v2`, or `consensus-v1` for the expected failure). */
export async function buildChain(dir: string, profile: string, log: (s: string) => void): Promise<BuiltChain> {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const base = loadChainSpec()
  const spec = { ...base, lattice: { ...base.lattice, inference: { profile } } }
  spec.geth = { ...spec.geth, config: { ...spec.geth.config, lattice: spec.lattice } }
  const datadir = join(dir, 'datadir')
  const devnet = await startDevnet({ datadir, port: 0, spec })
  const provider = new JsonRpcProvider(devnet.server.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  const wallet = new Wallet(KEY0, provider)
  const models: Record<string, string> = {}
  let reverted = 0
  try {
    const send = async (data: string, expectOk: boolean, gasLimit?: bigint) => {
      // EIP-7825 caps a transaction at 2^24 gas; successful calls are estimated first (it runs the model)
      const gas = gasLimit ?? (await provider.estimateGas({ from: wallet.address, to: INFERENCE, data }))
      const tx = await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: gas })
      const r = await provider.waitForTransaction(tx.hash)
      if ((r?.status === 1) !== expectOk)
        throw new TypeError(`tx ${tx.hash}: status ${r?.status}, expected ok=${expectOk}`)
      if (!expectOk) reverted++
    }
    const all = [
      ...exampleModels().map((m) => ({ name: m.name, bytes: m.bytes, input: m.sampleInput })),
      ...opGraphs().map((g) => ({ name: g.name, bytes: g.bytes, input: g.input })),
    ]
    for (const m of all) {
      const { modelId } = await deployModel(devnet.store, wallet, m.bytes, { name: m.name })
      models[modelId] = m.name
      const t0 = performance.now()
      await send(inferenceAbi.encodeFunctionData('infer', [modelId, m.input.map(abiTensor)]), true)
      log(`  ${m.name}: registered, inference mined (${(performance.now() - t0).toFixed(0)} ms)`)
    }
    const byName = (n: string) => Object.keys(models).find((id) => models[id] === n)!
    // batches: a model that stacks along a batch dim (iris) and one that runs item by item (op-softmax)
    const iris = all.find((m) => m.name === 'iris')!
    const soft = all.find((m) => m.name === 'op-softmax')!
    await send(
      inferenceAbi.encodeFunctionData('inferBatch', [
        byName('iris'),
        [iris.input.map(abiTensor), iris.input.map(abiTensor)],
      ]),
      true,
    )
    await send(
      inferenceAbi.encodeFunctionData('inferBatch', [
        byName('op-softmax'),
        [soft.input.map(abiTensor), soft.input.map(abiTensor)],
      ]),
      true,
    )
    // failing inferences: a wrong shape, an unknown model; both revert and are still in the chain
    const bad = { ...iris.input[0], shape: [4, 3] }
    await send(inferenceAbi.encodeFunctionData('infer', [byName('iris'), [abiTensor(bad)]]), false, 2_000_000n)
    await send(
      inferenceAbi.encodeFunctionData('infer', [`0x${'ab'.repeat(32)}`, iris.input.map(abiTensor)]),
      false,
      2_000_000n,
    )
    // one more block: it commits the previous block's inference root to state
    await (await wallet.sendTransaction({ to: wallet.address, value: 1n })).wait()
    const file = join(dir, 'chain.rlp')
    await exportBlockFile(devnet.node.chain, file)
    const result = await chainResult(devnet.node.chain)
    return { datadir, file, result, models, reverted }
  } finally {
    provider.destroy()
    await devnet.close()
  }
}
