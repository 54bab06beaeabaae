// Issue 16's acceptance on a real 4-validator network: `lattice network up --validators 4` (4 Lattice nodes driven
// by 4 Lodestar 1.5.1 validators over the Engine API), then the checks in order, on the same network. Run with
// `npm run test:network` (needs Lodestar: scripts/lodestar.sh). Not part of `npm test`: it takes ~10 minutes.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, HDNodeWallet, JsonRpcProvider, Network, Wallet } from 'ethers'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { compileContracts } from '../../src/chain/contracts.ts'
import { proofDeployVerifierCommand } from '../../src/cli/commands/proof-deploy-verifier.ts'
import type { NetworkState } from '../../src/cli/network/layout.ts'
import { writeNetworkState } from '../../src/cli/network/layout.ts'
import { lodestarStatus } from '../../src/cli/network/lodestar.ts'
import { isOurs, signalGroup, startDetached, stopProcesses } from '../../src/cli/network/processes.ts'
import { freePort } from '../../src/cli/network/ready.ts'
import { buildModel, ElemType } from '../../src/inference/builder.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { INFERENCE_VERIFIER_ADDRESS } from '../../src/precompiles/addresses.ts'
import { runCli, runCommand } from '../helpers/cli.ts'
import { abiTensor, INFERENCE, inferenceAbi } from '../helpers/models.ts'
import { call, elUrl, engineCall, payloadOf, processesMentioning, rssMiB, until } from './helpers.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const devKey = (i: number) => HDNodeWallet.fromPhrase(MNEMONIC, '', `m/44'/60'/0'/0/${i}`).privateKey
const ANVIL = join(import.meta.dirname, '../../node_modules/.bin/anvil')
/** The test-only switch (src/precompiles/test-perturb.ts): the node flips a bit of one model's outputs. */
const PERTURB_ENV = 'LATTICE_TEST_PERTURB_INFERENCE'

/** Figures for docs/benchmarks.md, printed at the end. */
const figures: Record<string, unknown> = {}

/** A line in DIR/progress.log: vitest prints a file's results only when all its tests are done. */
function note(dir: string, line: string): void {
  appendFileSync(join(dir, 'progress.log'), `${new Date().toISOString()} ${line}\n`)
}

describe('a 4-validator network driven by Lodestar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-network-'))
  let state: NetworkState
  let started: number
  let provider: JsonRpcProvider
  let irisId: string
  /** Inference transactions sent to node 1, with the blocks that included them. */
  const inferences: { hash: string; block: number; miner: string }[] = []
  let anvil: ChildProcess | undefined

  const url = (i: number) => elUrl(state, i)
  const head = (i: number) => call(url(i), 'eth_getBlockByNumber', ['latest', false])
  const blockAt = (i: number, n: number) => call(url(i), 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
  const finalizedEpochs = async (nodes: number[]) =>
    Promise.all(nodes.map(async (i) => (await lodestarStatus(state.nodes[i].cl.restPort)).finalized))

  beforeEach((ctx) => note(dir, `start: ${ctx.task.name}`))
  afterEach((ctx) => note(dir, `${ctx.task.result?.state ?? 'done'}: ${ctx.task.name} ${JSON.stringify(figures)}`))

  beforeAll(async () => {
    started = Date.now()
    const up = await runCli(['network', 'up', '--dir', dir, '--validators', '4', '--json'])
    if (up.code !== 0) throw new Error(`network up failed:\n${up.out}\n${up.err}`)
    state = JSON.parse(up.out) as NetworkState
    figures.upSeconds = Math.round((Date.now() - started) / 1000)
    irisId = state.examples.find((m) => m.name === 'iris')!.modelId
    const network = Network.from(BigInt(state.chainId))
    provider = new JsonRpcProvider(url(0), network, { staticNetwork: network, cacheTimeout: -1, pollingInterval: 250 })
  }, 600_000)

  afterAll(async () => {
    provider?.destroy()
    anvil?.kill('SIGKILL')
    // whatever a failed test left running: every process the network started, by the pids in network.json
    if (state) {
      await stopProcesses(
        state.nodes.flatMap((x) => [
          { pid: x.el.pid, label: `el ${x.index}` },
          { pid: x.cl.pid, label: `cl ${x.index}` },
        ]),
        state.dir,
        { graceMs: 5_000 },
      )
    }
    for (const p of processesMentioning(dir)) signalGroup(p.pid, 'SIGKILL')
    console.log('network figures', JSON.stringify(figures, null, 2))
    if (!process.env.LATTICE_KEEP_NETWORK) rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it('within 5 minutes the 4 Lodestars agree on a finalized checkpoint, the 4 Lattice nodes on head, state root and finalized block', async () => {
    const genesisMs = state.genesisTime * 1000
    const agreed = await until(
      'finality agreed by all nodes',
      async () => {
        const fin = await finalizedEpochs([0, 1, 2, 3])
        if (fin[0].epoch >= 1 && figures.firstFinalitySecondsAfterGenesis === undefined) {
          figures.firstFinalitySecondsAfterGenesis = Math.round((Date.now() - genesisMs) / 1000)
          figures.firstFinalitySecondsAfterUpStarted = Math.round((Date.now() - started) / 1000)
        }
        if (fin.some((f) => f.epoch < 1 || f.epoch !== fin[0].epoch || f.root !== fin[0].root)) return undefined
        const [heads, finalized] = await Promise.all([
          Promise.all([0, 1, 2, 3].map(head)),
          Promise.all([0, 1, 2, 3].map((i) => call(url(i), 'eth_getBlockByNumber', ['finalized', false]))),
        ])
        // a new slot may land between the four answers: sample again
        if (heads.some((h) => h.hash !== heads[0].hash || h.stateRoot !== heads[0].stateRoot)) return undefined
        if (finalized.some((f) => f?.hash !== finalized[0]?.hash)) return undefined
        return { fin: fin[0], head: heads[0], finalized: finalized[0] }
      },
      Math.max(10_000, started + 300_000 - Date.now()),
      500,
    )
    expect(Number(agreed.finalized.number)).toBeGreaterThan(0)
    expect(Number(agreed.head.number)).toBeGreaterThanOrEqual(Number(agreed.finalized.number))
    figures.agreedFinalityAfterUpStartedSeconds = Math.round((Date.now() - started) / 1000)
  }, 330_000)

  it('inference transactions sent to node 1 are included in blocks proposed by the other validators', async () => {
    const wallet = new Wallet(devKey(1), provider)
    let nonce = await provider.getTransactionCount(wallet.address)
    // each receipt is awaited from the moment its transaction is sent: latency = send to receipt on node 1
    const waits: Promise<{ hash: string; ms: number; receipt: any }>[] = []
    // one every 1.5 s: the transactions spread over slots of several proposers
    for (let k = 0; k < 12; k++) {
      const x = tensorFromValues('x', DType.float32, [1, 4], [5 + k / 10, 3.5, 1.4, 0.2])
      const data = inferenceAbi.encodeFunctionData('infer', [irisId, [abiTensor(x)]])
      const at = Date.now()
      const tx = await wallet.sendTransaction({ to: INFERENCE, data, nonce: nonce++, gasLimit: 5_000_000 })
      waits.push(
        until(`receipt of ${tx.hash}`, () => call(url(0), 'eth_getTransactionReceipt', [tx.hash]), 180_000, 250).then(
          (receipt) => ({ hash: tx.hash, ms: Date.now() - at, receipt }),
        ),
      )
      await new Promise((r) => setTimeout(r, 1500))
    }
    const latencies: number[] = []
    for (const w of await Promise.all(waits)) {
      latencies.push(w.ms)
      expect(w.receipt.status).toBe('0x1')
      const b = await blockAt(0, Number(w.receipt.blockNumber))
      inferences.push({ hash: w.hash, block: Number(w.receipt.blockNumber), miner: b.miner.toLowerCase() })
    }
    const validators = state.nodes.map((x) => x.el.validator.toLowerCase())
    for (const i of inferences) expect(validators).toContain(i.miner)
    const others = new Set(inferences.map((i) => i.miner).filter((m) => m !== validators[0]))
    expect(others.size).toBeGreaterThan(0)
    latencies.sort((a, b) => a - b)
    figures.inferenceInclusionMs = { median: latencies[latencies.length >> 1], max: latencies.at(-1) }
    figures.inferenceProposers = [...new Set(inferences.map((i) => validators.indexOf(i.miner) + 1))]
  }, 240_000)

  it('every node holds identical blocks, state roots and inference roots; a proof from any node carries ≥ 3 of 4 signatures and verifies on anvil', async () => {
    const top = Math.min(...(await Promise.all([0, 1, 2, 3].map(async (i) => Number((await head(i)).number)))))
    for (let n = 1; n <= top; n++) {
      const blocks = await Promise.all([0, 1, 2, 3].map((i) => blockAt(i, n)))
      for (const b of blocks) {
        expect(b.hash, `block ${n}`).toBe(blocks[0].hash)
        expect(b.stateRoot, `state root of block ${n}`).toBe(blocks[0].stateRoot)
      }
    }
    figures.blocksCompared = top
    const rootOf = new Contract(
      INFERENCE_VERIFIER_ADDRESS,
      ['function rootOf(uint256) view returns (bytes32)'],
      provider,
    ).interface
    // anvil with `lattice proof deploy-verifier` defaults: the validator set and threshold asked from the node
    const port = await freePort()
    anvil = spawn(ANVIL, ['--port', String(port), '--silent'], { stdio: 'ignore' })
    const anvilUrl = `http://127.0.0.1:${port}`
    await until('anvil', () => call(anvilUrl, 'eth_chainId'), 30_000, 200)
    const anvilProvider = new JsonRpcProvider(anvilUrl, undefined, { staticNetwork: true, cacheTimeout: -1 })
    const art = compileContracts().LatticeInferenceLightVerifier
    try {
      for (const i of [0, 1, 2, 3]) {
        const deployed = await runCommand(proofDeployVerifierCommand, {
          rpcUrl: anvilUrl,
          privateKey: devKey(9),
          latticeUrl: url(i),
        })
        expect(deployed.code).toBe(0)
        const { address, threshold, validators } = JSON.parse(deployed.stdout)
        expect(validators).toHaveLength(4)
        expect(threshold).toBe(3)
        const light = new Contract(address, art.abi as any, anvilProvider)
        for (const inf of inferences) {
          // signatures reach each node by gossip: wait until this node holds at least 3
          const p = await until(
            `3 signatures on node ${i + 1} for ${inf.hash}`,
            async () => {
              const proof = await call(url(i), 'lattice_getInferenceProof', [inf.hash])
              return proof.signatures.length >= 3 ? proof : undefined
            },
            90_000,
          )
          const roots = await Promise.all(
            [0, 1, 2, 3].map((j) =>
              call(url(j), 'eth_call', [
                { to: INFERENCE_VERIFIER_ADDRESS, data: rootOf.encodeFunctionData('rootOf', [inf.block]) },
                'latest',
              ]),
            ),
          )
          for (const r of roots) expect(r).toBe(p.root)
          const r = p.record
          const tuple = [r.chainId, r.blockNumber, r.txHash, r.index, r.modelId, r.inputHash, r.outputHash, r.flops]
          const sigs = p.signatures.map((s: { signature: string }) => s.signature)
          expect(await light.verifyInference(tuple, p.proof, p.blockHash, p.root, sigs)).toBe(true)
          // fewer than the threshold does not verify
          expect(await light.verifyInference(tuple, p.proof, p.blockHash, p.root, sigs.slice(0, 2))).toBe(false)
        }
      }
    } finally {
      anvilProvider.destroy()
    }
  }, 420_000)

  it('a model deployed through node 1 runs in a block executed by node 3, which fetched it from its peers', async () => {
    // bytes no node has seen: a constant drawn now
    const c = Float32Array.from({ length: 4 }, () => Math.random())
    const model = buildModel({
      inputs: [{ name: 'x', elemType: ElemType.float32, shape: [1, 4] }],
      outputs: [{ name: 'y', elemType: ElemType.float32, shape: [1, 4] }],
      initializers: [{ name: 'c', elemType: ElemType.float32, dims: [1, 4], data: c }],
      nodes: [{ op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
    })
    const deployed = await runCli([
      'model',
      'deploy',
      '--model',
      await writeModel(dir, model),
      '--name',
      `fresh-${Date.now()}`,
      '--rpc-url',
      url(0),
      '--private-key',
      devKey(3),
      '--json',
    ])
    expect(deployed.code, deployed.out + deployed.err).toBe(0)
    const { modelId, digest } = JSON.parse(deployed.out)
    // the model cache keeps a package under its digest's hex (src/storage/cache.ts)
    const cached = join(state.nodes[2].el.datadir, 'model-cache', 'packages', String(digest).replace(/^0x/, ''))
    expect(existsSync(cached)).toBe(false)
    const wallet = new Wallet(devKey(3), provider)
    const x = tensorFromValues('x', DType.float32, [1, 4], [1, 2, 3, 4])
    const tx = await wallet.sendTransaction({
      to: INFERENCE,
      data: inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(x)]]),
      gasLimit: 5_000_000,
    })
    // node 3's own receipt: it executed the block (newPayload from its Lodestar) with the model's outputs
    const r3 = await until<any>(
      'receipt on node 3',
      () => call(url(2), 'eth_getTransactionReceipt', [tx.hash]),
      180_000,
    )
    expect(r3.status).toBe('0x1')
    const [b1, b3] = await Promise.all([blockAt(0, Number(r3.blockNumber)), blockAt(2, Number(r3.blockNumber))])
    expect(b3.hash).toBe(b1.hash)
    expect(b3.stateRoot).toBe(b1.stateRoot)
    const [p1, p3] = await Promise.all([
      call(url(0), 'lattice_getInferenceProof', [tx.hash]),
      call(url(2), 'lattice_getInferenceProof', [tx.hash]),
    ])
    expect(p3.record.outputHash).toBe(p1.record.outputHash)
    expect(existsSync(cached)).toBe(true)
    inferences.push({ hash: tx.hash, block: Number(r3.blockNumber), miner: b1.miner })
  }, 300_000)

  it('kill -9 a Lattice node for 30 s: restarted, it catches up through newPayload and agrees again', async () => {
    const el = state.nodes[1].el
    signalGroup(el.pid, 'SIGKILL')
    await until('node 2 gone', async () => (isOurs(el.pid, state.dir) ? undefined : true), 10_000, 100)
    await new Promise((r) => setTimeout(r, 30_000))
    const target = Number((await head(0)).number)
    const t0 = Date.now()
    el.pid = startDetached(el)
    writeNetworkState(state)
    const caughtUp = await until(
      `node 2 back at block ${target}`,
      async () => {
        const b = await blockAt(1, target).catch(() => null)
        return b ? b : undefined
      },
      240_000,
    )
    figures.latticeRestartCatchUpSeconds = Math.round((Date.now() - t0) / 1000)
    expect(caughtUp.hash).toBe((await blockAt(0, target)).hash)
    expect(caughtUp.stateRoot).toBe((await blockAt(0, target)).stateRoot)
    // and it follows the head afterwards
    const later = target + 3
    const b2 = await until('node 2 follows the head', async () => (await blockAt(1, later)) ?? undefined, 120_000)
    expect(b2.hash).toBe((await blockAt(0, later)).hash)
  }, 420_000)

  it('kill -9 one Lodestar: the network keeps finalizing with 3 of 4 validators', async () => {
    const cl = state.nodes[3].cl
    signalGroup(cl.pid, 'SIGKILL')
    const before = (await finalizedEpochs([0, 1, 2]))[0].epoch
    const after = await until(
      'finality advancing with 3 validators',
      async () => {
        const fin = await finalizedEpochs([0, 1, 2])
        return fin.every((f) => f.epoch >= before + 2) ? fin : undefined
      },
      240_000,
      2000,
    )
    expect(after[0].epoch).toBeGreaterThanOrEqual(before + 2)
    const finalized = await Promise.all(
      [0, 1, 2].map((i) => call(url(i), 'eth_getBlockByNumber', ['finalized', false])),
    )
    expect(Number(finalized[0].number)).toBeGreaterThan(0)
  }, 300_000)

  it('a node started with the inference perturbation answers INVALID naming the state root and the inference; the other three keep finalizing', async () => {
    // node 4's Lodestar is gone (previous test): node 4 gets payloads only from this test, as a consensus client
    const el = state.nodes[3].el
    signalGroup(el.pid, 'SIGKILL')
    await until('node 4 gone', async () => (isOurs(el.pid, state.dir) ? undefined : true), 10_000, 100)
    el.pid = startDetached(el, { ...process.env, [PERTURB_ENV]: irisId })
    writeNetworkState(state)
    await until('node 4 answers', () => call(url(3), 'eth_blockNumber'), 180_000)
    const from = Number((await head(3)).number) + 1
    const epochBefore = (await finalizedEpochs([0, 1, 2]))[0].epoch
    const wallet = new Wallet(devKey(4), provider)
    const x = tensorFromValues('x', DType.float32, [1, 4], [6.3, 3.3, 6.0, 2.5])
    const tx = await wallet.sendTransaction({
      to: INFERENCE,
      data: inferenceAbi.encodeFunctionData('infer', [irisId, [abiTensor(x)]]),
      gasLimit: 5_000_000,
    })
    const receipt = await tx.wait(1, 120_000)
    const target = receipt!.blockNumber
    // a block's outputs reach state through the inference root the next block commits (docs/proofs.md): the
    // perturbed node refuses the inference block itself or, at the latest, its child
    await until('the block after the inference', () => blockAt(0, target + 1), 60_000)
    let answer: any
    let refused = 0
    for (let n = from; n <= target + 1; n++) {
      answer = await engineCall(state, 3, 'engine_newPayloadV2', [await payloadOf(url(0), n)])
      if (answer.status !== 'VALID') {
        refused = n
        break
      }
      expect(n, `block ${n} is VALID on the perturbed node`).toBeLessThan(target + 1)
    }
    expect(refused).toBeGreaterThanOrEqual(target)
    expect(answer.status).toBe('INVALID')
    expect(answer.validationError).toMatch(/state ?root/i)
    expect(answer.validationError).toContain(irisId)
    expect(answer.latestValidHash).toBe((await blockAt(0, refused - 1)).hash)
    figures.perturbedValidationError = answer.validationError
    const after = await until(
      'the other three finalize on',
      async () => {
        const fin = await finalizedEpochs([0, 1, 2])
        return fin.every((f) => f.epoch > epochBefore) ? fin : undefined
      },
      180_000,
      2000,
    )
    expect(after[0].epoch).toBeGreaterThan(epochBefore)
  }, 420_000)

  it('throughput: transfers sent to node 1 in a burst (figures for docs/benchmarks.md)', async () => {
    const wallet = new Wallet(devKey(2), provider)
    const nonce = await provider.getTransactionCount(wallet.address)
    const fee = await provider.getFeeData()
    const count = 40
    const raws: string[] = []
    for (let k = 0; k < count; k++) {
      raws.push(
        await wallet.signTransaction({
          to: wallet.address,
          value: 1n,
          nonce: nonce + k,
          gasLimit: 21_000,
          maxFeePerGas: fee.maxFeePerGas! * 2n,
          maxPriorityFeePerGas: fee.maxPriorityFeePerGas!,
          chainId: BigInt(state.chainId),
          type: 2,
        }),
      )
    }
    const t0 = Date.now()
    const hashes: string[] = []
    for (const raw of raws) hashes.push(await call(url(0), 'eth_sendRawTransaction', [raw]))
    const last = await until<any>(
      'last transfer included',
      () => call(url(0), 'eth_getTransactionReceipt', [hashes.at(-1)]),
      180_000,
      250,
    )
    const seconds = (Date.now() - t0) / 1000
    expect(last.status).toBe('0x1')
    const first = await call(url(0), 'eth_getTransactionReceipt', [hashes[0]])
    figures.transferBurst = {
      count,
      seconds: Number(seconds.toFixed(1)),
      txPerSecond: Number((count / seconds).toFixed(1)),
      blocks: Number(last.blockNumber) - Number(first.blockNumber) + 1,
    }
  }, 240_000)

  it('memory per node (figures for docs/benchmarks.md)', () => {
    figures.rssMiB = state.nodes.map((x) => ({
      node: x.index + 1,
      lattice: rssMiB(x.el.pid),
      lodestar: rssMiB(x.cl.pid),
    }))
    expect(rssMiB(state.nodes[0].el.pid)).toBeGreaterThan(0)
  })

  it('lattice network down leaves no process behind', async () => {
    const down = await runCli(['network', 'down', '--dir', dir])
    expect(down.code, down.err).toBe(0)
    expect(processesMentioning(dir)).toEqual([])
  }, 120_000)
})

async function writeModel(dir: string, bytes: Uint8Array): Promise<string> {
  const { writeFileSync } = await import('node:fs')
  const path = join(dir, `fresh-${Date.now()}.onnx`)
  writeFileSync(path, bytes)
  return path
}
