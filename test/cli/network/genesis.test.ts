import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Interface, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileContracts, evmVersionOf, PREDEPLOYS } from '../../../src/chain/contracts.ts'
import { ContractCompileError } from '../../../src/chain/errors.ts'
import { parseChainSpec } from '../../../src/chain/genesis.ts'
import { networkGenesis } from '../../../src/cli/network/genesis.ts'
import { DType, tensorFromValues } from '../../../src/inference/tensor.ts'
import { INFERENCE_VERIFIER_ADDRESS } from '../../../src/precompiles/addresses.ts'
import { runCli } from '../../helpers/cli.ts'
import type { TestDevnet } from '../../helpers/devnet.ts'
import { ADDR0, KEY0, rpc, startTestDevnet } from '../../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../../helpers/models.ts'

/** Opcodes that exist only from Cancun on: TLOAD, TSTORE, MCOPY, BLOBHASH, BLOBBASEFEE. */
const CANCUN_OPCODES = new Map([
  [0x5c, 'TLOAD'],
  [0x5d, 'TSTORE'],
  [0x5e, 'MCOPY'],
  [0x49, 'BLOBHASH'],
  [0x4a, 'BLOBBASEFEE'],
])

/** The Cancun opcodes in runtime code, walking instructions (PUSH data skipped, so data bytes never count). */
function cancunOpcodes(code: string): string[] {
  const bytes = Buffer.from(code.slice(2), 'hex')
  const found = new Set<string>()
  for (let i = 0; i < bytes.length; i++) {
    const op = bytes[i]
    const name = CANCUN_OPCODES.get(op)
    if (name) found.add(name)
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f
  }
  return [...found]
}

const VALIDATORS = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC']
const TIME = 1_790_000_000

describe('network genesis at Shanghai', () => {
  const genesis = networkGenesis({ validators: VALIDATORS, timestamp: TIME }) as any

  it('activates forks up to Shanghai only and carries the validator set and genesis time', () => {
    expect(genesis.config.shanghaiTime).toBe(0)
    expect(genesis.config.terminalTotalDifficulty).toBe(0)
    for (const f of ['cancunTime', 'pragueTime', 'osakaTime', 'bpo1Time', 'bpo2Time', 'blobSchedule']) {
      expect(genesis.config).not.toHaveProperty(f)
    }
    expect(genesis).not.toHaveProperty('excessBlobGas')
    expect(genesis).not.toHaveProperty('blobGasUsed')
    expect(genesis.config.lattice.validators).toEqual(VALIDATORS)
    expect(genesis.config.lattice.inference).toEqual({ profile: 'consensus-v2' })
    expect(BigInt(genesis.timestamp)).toBe(BigInt(TIME))
    expect(evmVersionOf(genesis)).toBe('shanghai')
    // the beacon-root / history / request system contracts of later forks are not predeployed
    const keys = Object.keys(genesis.alloc).map((k) => k.toLowerCase())
    expect(keys).not.toContain('0x000f3df6d732807ef1319fb7b8bb8522d0beac02')
    expect(keys).not.toContain('0x0000f90827f1c53a10cb7a02335b175320002935')
  })

  it('predeploys system contracts built for Shanghai: no Cancun opcode, where the Prague build has some', () => {
    const prague = compileContracts()
    const shanghai = compileContracts({ evmVersion: 'shanghai' })
    expect(shanghai.ModelRegistry.compiler.settings.evmVersion).toBe('shanghai')
    expect(prague.ModelRegistry.compiler.settings.evmVersion).toBe('prague')
    const pragueOps = new Set<string>()
    for (const p of PREDEPLOYS) {
      const entry = Object.entries(genesis.alloc).find(([k]) => k.toLowerCase() === p.address.toLowerCase())?.[1] as any
      expect(entry.code).toBe(shanghai[p.contract].deployedBytecode)
      expect(cancunOpcodes(entry.code)).toEqual([])
      for (const op of cancunOpcodes(prague[p.contract].deployedBytecode)) pragueOps.add(op)
    }
    // the test can fail: the walk finds MCOPY where solc may use it
    expect([...pragueOps]).toContain('MCOPY')
  })

  it('evmVersionOf follows the latest fork active at genesis and refuses one before Shanghai', () => {
    expect(evmVersionOf({ config: { shanghaiTime: 0, cancunTime: 0, pragueTime: 0 } })).toBe('prague')
    expect(evmVersionOf({ config: { shanghaiTime: 0, cancunTime: 0, pragueTime: 100 } })).toBe('cancun')
    expect(() => evmVersionOf({ config: { londonBlock: 0 } })).toThrow(ContractCompileError)
  })
})

describe('a Shanghai chain runs the inference precompile and the inference-root system call', () => {
  let devnet: TestDevnet | undefined
  let provider: JsonRpcProvider
  const work = mkdtempSync(join(tmpdir(), 'lattice-shanghai-'))
  // the dev account 0 is a validator here, so the devnet signs roots as a network validator would
  const genesis = networkGenesis({ validators: [ADDR0, ...VALIDATORS], timestamp: TIME })
  beforeAll(async () => {
    devnet = await startTestDevnet({ spec: parseChainSpec(genesis), datadir: join(work, 'a') })
    provider = new JsonRpcProvider(devnet.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 50,
    })
  }, 120_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('blocks have Shanghai headers; an inference is recorded and its root lands in InferenceVerifier', async () => {
    const wallet = new Wallet(KEY0, provider)
    const iris = await deployModel(devnet!.store, wallet, exampleModel('iris').bytes, { name: 'iris' })
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const data = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
    const tx = await wallet.sendTransaction({ to: INFERENCE, data, gasLimit: 5_000_000 })
    const receipt = await tx.wait()
    expect(receipt?.status).toBe(1)
    const block = (await rpc(devnet!.url, 'eth_getBlockByNumber', [`0x${receipt!.blockNumber.toString(16)}`, false]))
      .result
    expect(block.withdrawalsRoot).toBeDefined()
    expect(block.parentBeaconBlockRoot).toBeUndefined()
    expect(block.blobGasUsed).toBeUndefined()
    const proof = (await rpc(devnet!.url, 'lattice_getInferenceProof', [tx.hash])).result
    expect(proof.root).toMatch(/^0x[0-9a-f]{64}$/)
    expect(proof.root).not.toBe(`0x${'0'.repeat(64)}`)
    expect(proof.signatures.map((s: any) => s.signer)).toEqual([ADDR0.toLowerCase()])
    // the next block starts with the system call writing that root (no beacon-root call on Shanghai)
    await (await wallet.sendTransaction({ to: ADDR0, value: 1n })).wait()
    const verifier = new Interface(['function rootOf(uint256) view returns (bytes32)'])
    const out = await provider.call({
      to: INFERENCE_VERIFIER_ADDRESS,
      data: verifier.encodeFunctionData('rootOf', [receipt!.blockNumber]),
    })
    expect(verifier.decodeFunctionResult('rootOf', out)[0]).toBe(proof.root)
  }, 180_000)

  it('a second node imports those blocks and reaches the same state roots (block building and import agree)', async () => {
    // before Cancun the builder opens no checkpoint before the system call: a block once kept an empty system
    // account that import removes, and every validator refused the block after an inference (state root)
    const head = Number((await rpc(devnet!.url, 'eth_blockNumber')).result)
    const last = (await rpc(devnet!.url, 'eth_getBlockByNumber', [`0x${head.toString(16)}`, false])).result
    await devnet!.stop()
    devnet = undefined
    writeFileSync(join(work, 'genesis.json'), JSON.stringify(genesis))
    expect((await runCli(['export', join(work, 'chain.rlp'), '--datadir', join(work, 'a')])).code).toBe(0)
    expect((await runCli(['init', '--genesis', join(work, 'genesis.json'), '--datadir', join(work, 'b')])).code).toBe(0)
    // the model bytes, as a peer would provide them
    cpSync(join(work, 'a', 'ipfs'), join(work, 'b', 'ipfs'), { recursive: true })
    const imported = await runCli(['import', join(work, 'chain.rlp'), '--datadir', join(work, 'b')])
    expect(imported.code, imported.err).toBe(0)
    expect(imported.out).toContain(`Head #${head} ${last.hash}`)
    expect(imported.out).toContain(`State root: ${last.stateRoot}`)
  }, 180_000)
})
