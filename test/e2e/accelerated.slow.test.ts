// Accelerated inference end to end (issue 20): a real `lattice devnet` process, real `lattice executor`,
// `lattice challenger`, `lattice claim challenge` and `lattice model inference --async` processes, a consumer
// contract. (1) an honest cpu executor answers, the window passes, the callback holds outputs within tolerance of
// the sync precompile's; (2) a lying executor (test switch) is overturned by the running challenger: its stake goes
// to the challenger and the consumer gets the consensus outputs; (3) a hand challenge of an honest claim fails and
// the bond goes to the executor; (4) --async waits for finality and prints the outputs.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder, Contract, ContractFactory, Interface, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { abiTensors, MARKET_ABI, MARKET_ADDRESS, tensorsHash, tensorsOfAbi } from '../../src/cli/market/client.ts'
import { fixedCode, type Tensor, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'
import { withinTolerance } from '../../src/inference/tolerance.ts'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { addModelPackage } from '../../src/storage/package.ts'
import { KEY0, rpc } from '../helpers/devnet.ts'
import { freePort, startDevnetProcess, stopProcess } from '../helpers/devnet-process.ts'
import { compileContract } from '../helpers/solc.ts'

const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname
const KEY_HONEST = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' // dev account 1
const KEY_LIAR = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a' // dev account 2
const KEY_CHALLENGER = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6' // dev account 3
const KEY_HAND = '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a' // dev account 4
const STAKE = 10n ** 18n
const PRICE = 1000n
const TOLERANCE = { maxUlp: 4, maxAbsE9: 0n, sameArgmax: false }
const TENSOR = 'tuple(string,uint8,uint64[],bytes)[]'
const INFER_ABI = new Interface([`function infer(bytes32 modelId, ${TENSOR} inputs) returns (${TENSOR} outputs)`])

/** A CLI process whose stdout JSON lines are collected as they come. */
interface CliProc {
  child: ChildProcess
  events: Record<string, any>[]
  output(): string
}

describe('accelerated inference through the InferenceMarket (real node and CLI processes)', () => {
  const children: ChildProcess[] = []
  let dir: string
  let url: string
  let provider: JsonRpcProvider
  let market: Contract
  let consumer: Contract
  let irisId: string
  let challenger: CliProc
  let honest: CliProc
  const gas: Record<string, string> = {}
  const running: CliProc[] = []

  /** Stop every executor still running (a failed test must not leave one racing the next test's). */
  async function stopExecutors(): Promise<void> {
    for (const p of running.splice(0)) if (p.child.exitCode === null) await stopProcess(p.child)
  }

  function cli(args: string[], env: Record<string, string> = {}): CliProc {
    const child = spawn(process.execPath, [BIN, ...args, '--rpc-url', url], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    children.push(child)
    const events: Record<string, any>[] = []
    let out = ''
    let buf = ''
    child.stdout?.on('data', (d) => {
      out += d
      buf += d
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        try {
          events.push(JSON.parse(line))
        } catch {
          // a pretty-printed document (a one-shot command): read from output() instead
        }
      }
    })
    child.stderr?.on('data', (d) => {
      out += d
    })
    return { child, events, output: () => out }
  }

  /** Poll `f` until it gives a value; fail early when `p` exits or logs an error about request `id`. */
  async function waitFor<T>(what: string, p: CliProc | undefined, f: () => T | undefined, id?: bigint): Promise<T> {
    const deadline = Date.now() + 150_000
    for (;;) {
      const v = f()
      if (v !== undefined && v !== false) return v
      if (p && p.child.exitCode !== null) throw new Error(`${what}: the process exited:\n${p.output()}`)
      if (p && id !== undefined && eventOf(p, 'error', id)) throw new Error(`${what}: failed:\n${p.output()}`)
      if (Date.now() > deadline) throw new Error(`${what}: timed out${p ? `:\n${p.output()}` : ''}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  const eventOf = (p: CliProc, event: string, requestId?: bigint) =>
    p.events.find((e) => e.event === event && (requestId === undefined || e.requestId === requestId.toString()))

  /** Start an executor with its own IPFS store holding the iris package, and wait until it watches. */
  async function startExecutor(
    key: string,
    name: string,
    env: Record<string, string> = {},
    more: string[] = [],
  ): Promise<CliProc> {
    const datadir = join(dir, name)
    mkdirSync(datadir, { recursive: true })
    const p = cli(
      ['executor', '--provider', 'cpu', '--key', key, '--stake', STAKE.toString(), '--price', PRICE.toString()].concat([
        '--datadir',
        datadir,
        '--poll-ms',
        '200',
        '--json',
        ...more,
      ]),
      env,
    )
    await waitFor(`${name} watching`, p, () => eventOf(p, 'watching'))
    running.push(p)
    return p
  }

  async function addIrisTo(name: string, cid: string): Promise<void> {
    const pkg = join(dir, `${name}-pkg`)
    mkdirSync(pkg)
    writeFileSync(join(pkg, 'iris.onnx'), buildIrisModel())
    const store = await createEmbeddedModelStore({ datadir: join(dir, name) })
    try {
      const r = await addModelPackage(store, { dir: pkg }, { name: 'iris' })
      // the same files and import profile as the devnet's examples give the registry's CID
      expect(r.manifestCid).toBe(cid)
    } finally {
      await store.close()
    }
  }

  const inputs = (): Tensor[] => [tensorFromValues('x', fixedCode(4), [1, 4], [67000n, 30000n, 52000n, 23000n])]

  async function request(): Promise<bigint> {
    const tx = await consumer.request(irisId, abiTensors(inputs()), { value: PRICE })
    const receipt = await tx.wait()
    gas.request = receipt.gasUsed.toString()
    const log = receipt.logs
      .map((l: { topics: string[]; data: string }) => consumer.interface.parseLog(l))
      .find((l: { name: string } | null) => l?.name === 'Requested')
    return log.args.requestId as bigint
  }

  async function syncOutputs(): Promise<Tensor[]> {
    const data = INFER_ABI.encodeFunctionData('infer', [irisId, abiTensors(inputs())])
    const ret = await provider.call({ to: '0x0000000000000000000000000000000000000A11', data })
    return tensorsOfAbi(INFER_ABI.decodeFunctionResult('infer', ret)[0])
  }

  async function consumerResult(id: bigint): Promise<Tensor[]> {
    const raw = (await consumer.results(id)) as string
    return tensorsOfAbi(AbiCoder.defaultAbiCoder().decode([TENSOR], raw)[0])
  }

  const mine = (n: number) => rpc(url, 'anvil_mine', [`0x${n.toString(16)}`])

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-accelerated-'))
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    await startDevnetProcess({ datadir: join(dir, 'node'), port, children, until: 'listening', timeoutMs: 180_000 })
    provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    provider.pollingInterval = 100
    const owner = new Wallet(KEY0, provider)
    market = new Contract(MARKET_ADDRESS, MARKET_ABI as never, provider)
    const models = (await rpc(url, 'lattice_listModels', [{ name: 'iris' }])).result.models as {
      modelId: string
      cid: string
    }[]
    irisId = models[0].modelId
    await addIrisTo('honest', models[0].cid)
    await addIrisTo('liar', models[0].cid)
    // the model's owner sets the tolerance with the CLI: 4 steps of 1e-4 on the fixed-point probabilities
    const tol = cli(['model', 'set-tolerance', irisId, '--max-ulp', '4', '--key', KEY0, '--json'])
    expect(await new Promise((r) => tol.child.once('exit', r))).toBe(0)
    expect(JSON.parse(tol.output())).toMatchObject({ modelId: irisId, maxUlp: 4, sameArgmax: false })
    const c = compileContract(new URL('../fixtures/MarketConsumer.sol', import.meta.url).pathname, 'MarketConsumer')
    const deployed = await new ContractFactory(c.abi, c.bytecode, owner).deploy()
    await deployed.waitForDeployment()
    consumer = new Contract(await deployed.getAddress(), c.abi, owner)
    challenger = cli(['challenger', '--key', KEY_CHALLENGER, '--poll-ms', '200', '--json'])
    await waitFor('challenger watching', challenger, () => eventOf(challenger, 'watching'))
  }, 300_000)

  afterAll(async () => {
    provider?.destroy()
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    if (dir) rmSync(dir, { recursive: true, force: true })
    // the measured gas, for docs/benchmarks.md
    console.log(`accelerated gas: ${JSON.stringify(gas)}`)
  })

  it('an honest cpu executor answers, the window passes, and the callback holds outputs within tolerance', async () => {
    honest = await startExecutor(KEY_HONEST, 'honest')
    expect(eventOf(honest, 'registered')).toMatchObject({ provider: 'cpu', stake: STAKE.toString() })
    const id = await request()
    const claimed = await waitFor('claim', honest, () => eventOf(honest, 'claimed', id), id)
    gas.claim = claimed.gasUsed
    // the running challenger re-ran it on the consensus runtime and found it within tolerance
    const checked = await waitFor('check', challenger, () => eventOf(challenger, 'checked', id), id)
    expect(checked.withinTolerance).toBe(true)
    await mine(Number(await market.challengeWindow()))
    const fin = await waitFor('finalize', honest, () => eventOf(honest, 'finalized', id), id)
    gas.finalize = fin.gasUsed
    expect(fin).toMatchObject({ fee: PRICE.toString(), callbackOk: true })
    expect(await consumer.calls(id)).toBe(1n)
    const got = await consumerResult(id)
    const sync = await syncOutputs()
    expect(got.map((t) => t.name)).toEqual(sync.map((t) => t.name))
    expect(withinTolerance(got, sync, TOLERANCE).ok).toBe(true)
    expect(tensorsHash(got)).toBe(claimed.outputHash)
    // SIGTERM stops it cleanly
    expect(await stopProcess(honest.child)).toBe(0)
    expect(eventOf(honest, 'stopped')).toBeDefined()
  })

  it('a lying executor is overturned by the running challenger: slashed, and the consumer gets the consensus outputs', async () => {
    await stopExecutors()
    const liar = await startExecutor(KEY_LIAR, 'liar', { LATTICE_TEST_EXECUTOR_LIE: 'scale' })
    const liarAddr = new Wallet(KEY_LIAR).address
    const challengerAddr = new Wallet(KEY_CHALLENGER).address
    const bond = (await market.challengeBond()) as bigint
    const creditBefore = (await market.credit(challengerAddr)) as bigint
    const id = await request()
    const claimed = await waitFor('lying claim', liar, () => eventOf(liar, 'claimed', id), id)
    expect(claimed.testLie).toBe('scale')
    const ch = await waitFor('challenge', challenger, () => eventOf(challenger, 'challenged', id), id)
    gas.challengeOverturned = ch.gasUsed
    expect(ch).toMatchObject({ overturned: true, slashed: STAKE.toString() })
    const req = await market.getRequest(id)
    expect(Number(req.status)).toBe(4) // Overturned
    const sync = await syncOutputs()
    expect(tensorsHash(await consumerResult(id))).toBe(tensorsHash(sync))
    expect(req.outputHash).toBe(tensorsHash(sync))
    expect((await market.credit(challengerAddr)) - creditBefore).toBe(STAKE + bond)
    // the liar's record, through the CLI
    const status = cli(['executor', 'status', liarAddr, '--json'])
    await new Promise((r) => status.child.once('exit', r))
    expect(JSON.parse(status.output())).toMatchObject({ executor: liarAddr, stake: '0', slashed: 1, openClaims: 0 })
    await waitFor('liar sees the slash', liar, () => eventOf(liar, 'slashed', id))
    expect(await stopProcess(liar.child)).toBe(0)
  })

  it('a hand challenge of an honest claim fails and the bond goes to the executor; a restarted executor skips what it handled', async () => {
    await stopExecutors()
    honest = await startExecutor(KEY_HONEST, 'honest')
    const honestAddr = new Wallet(KEY_HONEST).address
    const id = await request()
    await waitFor('claim', honest, () => eventOf(honest, 'claimed', id), id)
    // restart-safe: requests 1 and 2 were rescanned, neither claimed again
    expect(honest.events.filter((e) => e.event === 'claimed').map((e) => e.requestId)).toEqual([id.toString()])
    expect(eventOf(honest, 'skipped', id - 2n)?.reason).toMatch(/already finalized/)
    await waitFor('check', challenger, () => eventOf(challenger, 'checked', id), id)
    const bond = (await market.challengeBond()) as bigint
    const before = (await market.credit(honestAddr)) as bigint
    const hand = cli(['claim', 'challenge', id.toString(), '--key', KEY_HAND, '--json'])
    expect(await new Promise((r) => hand.child.once('exit', r))).toBe(0)
    const r = JSON.parse(hand.output())
    gas.challengeFailed = r.gasUsed
    expect(r).toMatchObject({ requestId: id.toString(), overturned: false, bondTo: 'executor', bond: bond.toString() })
    // verified: the executor finalises at once, without waiting for the window
    await waitFor('finalize', honest, () => eventOf(honest, 'finalized', id), id)
    expect((await market.credit(honestAddr)) - before).toBe(bond + PRICE)
    expect(await consumer.calls(id)).toBe(1n)
  })

  it('model inference --async requests from the key, waits for finality and prints the outputs; --withdraw pays out', async () => {
    // restarted once more, now withdrawing its credit after each finalisation
    await stopExecutors()
    honest = await startExecutor(KEY_HONEST, 'honest', {}, ['--withdraw'])
    const honestAddr = new Wallet(KEY_HONEST).address
    const credit = (await market.credit(honestAddr)) as bigint
    expect(credit).toBeGreaterThan(0n)
    const inputFile = join(dir, 'input.json')
    writeFileSync(
      inputFile,
      JSON.stringify({ inputs: { x: { dtype: 'fixed4', shape: [1, 4], data: ['67000', '30000', '52000', '23000'] } } }),
    )
    const p = cli(
      ['model', 'inference', '--model-id', irisId, '--input', inputFile, '--async'].concat([
        '--max-fee',
        PRICE.toString(),
        '--key',
        KEY0,
        '--json',
      ]),
    )
    // waits on the CLI process: if it fails, its output says why
    const claimed = await waitFor('async claim', p, () =>
      honest.events.find((e) => e.event === 'claimed' && BigInt(e.requestId) > 3n),
    )
    await mine(Number(await market.challengeWindow()))
    expect(await new Promise((r) => p.child.once('exit', r))).toBe(0)
    const r = JSON.parse(p.output())
    expect(r).toMatchObject({ modelId: irisId, requestId: claimed.requestId, status: 'finalized' })
    const sync = await syncOutputs()
    for (const t of sync) {
      const got = r.outputs[t.name]
      expect(got.shape).toEqual(t.shape)
      const want = tensorValues(t).map(Number)
      got.data.forEach((v: string | number, i: number) => {
        expect(Math.abs(Number(v) - want[i])).toBeLessThanOrEqual(4)
      })
    }
    const withdrawn = await waitFor('withdraw', honest, () => eventOf(honest, 'withdrawn'))
    expect(withdrawn.amount).toBe((credit + PRICE).toString())
    expect(await market.credit(honestAddr)).toBe(0n)
    expect(honest.events.filter((e) => e.event === 'claimed')).toHaveLength(1)
    expect(await stopProcess(honest.child)).toBe(0)
    expect(await stopProcess(challenger.child)).toBe(0)
  })
})
