import { readFileSync } from 'node:fs'
import { type Contract, ContractFactory, Interface, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadChainSpec } from '../../src/chain/genesis.ts'
import type { Tensor } from '../../src/inference/tensor.ts'
import { DType, fixedCode, numElements, tensorFromValues, toFloat16Bits } from '../../src/inference/tensor.ts'
import { MAX_REPORTED_ULP, NO_BAD_ELEMENT, type Tolerance, withinTolerance } from '../../src/inference/tolerance.ts'
import { SELECTORS } from '../../src/precompiles/abi.ts'
import { GAS_SCHEDULES, INFERENCE_GAS, toleranceGas } from '../../src/precompiles/params.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR1, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { abiTensor, INFERENCE } from '../helpers/models.ts'
import { compileContract, REPO_ROOT } from '../helpers/solc.ts'

/** The committed, generated ABI of contracts/ILatticeInference.sol. */
const iface = new Interface(
  JSON.parse(readFileSync(new URL('../../contracts/abi/ILatticeInference.json', import.meta.url), 'utf8')),
)
const errorIface = new Interface(['error Error(string)'])

const f32 = (values: number[], name = 'y', shape = [values.length]) =>
  tensorFromValues(name, DType.float32, shape, values)
const bits32 = (words: number[], name = 'y', shape = [words.length]): Tensor => ({
  name,
  dtype: DType.float32,
  shape,
  data: new Uint8Array(new Uint32Array(words).buffer),
})
const f16 = (values: number[], name = 'y') => ({
  name,
  dtype: DType.float16,
  shape: [values.length],
  data: new Uint8Array(new Uint16Array(values.map(toFloat16Bits)).buffer),
})
const fx = (values: bigint[], decimals = 18) => tensorFromValues('y', fixedCode(decimals), [values.length], values)
const ONE = 0x3f800000
const NAN = 0x7fc00000
const INF = 0x7f800000
const NEG = 0x80000000

interface Case {
  name: string
  claimed: Tensor[]
  expected: Tensor[]
  tol: Partial<Tolerance>
  want: { ok: boolean; worstUlp: number; firstBad: bigint }
}

const pass = (worstUlp = 0) => ({ ok: true, worstUlp, firstBad: NO_BAD_ELEMENT })
const CASES: Case[] = [
  {
    name: 'one ulp, maxUlp 1',
    claimed: [bits32([ONE, ONE + 1])],
    expected: [bits32([ONE, ONE])],
    tol: { maxUlp: 1 },
    want: pass(1),
  },
  {
    name: 'one ulp, maxUlp 0',
    claimed: [bits32([ONE, ONE + 1])],
    expected: [bits32([ONE, ONE])],
    tol: {},
    want: { ok: false, worstUlp: 1, firstBad: 1n },
  },
  {
    name: 'within maxAbs',
    claimed: [f32([1.5, 2])],
    expected: [f32([1, 2])],
    tol: { maxAbsE9: 500_000_000n },
    want: pass(4194304),
  },
  {
    name: 'beyond maxAbs',
    claimed: [f32([1.5, 2])],
    expected: [f32([1, 2])],
    tol: { maxAbsE9: 499_999_999n },
    want: { ok: false, worstUlp: 4194304, firstBad: 0n },
  },
  {
    name: 'different argmax',
    claimed: [f32([0.2, 0.5, 0.3, 0.1, 0.1, 0.8], 'p', [2, 3])],
    expected: [f32([0.2, 0.5, 0.3, 0.1, 0.8, 0.1], 'p', [2, 3])],
    tol: { sameArgmax: true },
    want: { ok: false, worstUlp: 0, firstBad: 3n },
  },
  {
    name: 'same argmax, other values',
    claimed: [f32([0, 0.9, 0.1, 0.3, 0.4, 0.5], 'p', [2, 3])],
    expected: [f32([0.2, 0.5, 0.3, 0.1, 0.1, 0.8], 'p', [2, 3])],
    tol: { sameArgmax: true },
    want: pass(),
  },
  {
    name: 'NaN matches NaN, −0 matches +0, Inf matches Inf',
    claimed: [bits32([NAN, NEG, INF])],
    expected: [bits32([0x7f800001, 0, INF])],
    tol: {},
    want: pass(),
  },
  {
    name: 'NaN against a number',
    claimed: [bits32([ONE, NAN])],
    expected: [bits32([ONE, ONE])],
    tol: { maxUlp: 1000, maxAbsE9: 10n ** 18n },
    want: { ok: false, worstUlp: MAX_REPORTED_ULP, firstBad: 1n },
  },
  {
    name: '+Inf against the largest float',
    claimed: [bits32([INF])],
    expected: [bits32([INF - 1])],
    tol: { maxUlp: MAX_REPORTED_ULP },
    want: { ok: false, worstUlp: MAX_REPORTED_ULP, firstBad: 0n },
  },
  {
    name: 'shape mismatch',
    claimed: [f32([1, 2], 'y', [1, 2])],
    expected: [f32([1, 2])],
    tol: {},
    want: { ok: false, worstUlp: 0, firstBad: 0n },
  },
  {
    name: 'dtype mismatch',
    claimed: [tensorFromValues('y', DType.int32, [2], [1, 2])],
    expected: [f32([1, 2])],
    tol: {},
    want: { ok: false, worstUlp: 0, firstBad: 0n },
  },
  {
    name: 'name mismatch',
    claimed: [f32([1, 2], 'z')],
    expected: [f32([1, 2])],
    tol: {},
    want: { ok: false, worstUlp: 0, firstBad: 0n },
  },
  {
    name: 'count mismatch',
    claimed: [f32([1, 2]), f32([3], 'b')],
    expected: [f32([1, 2])],
    tol: {},
    want: { ok: false, worstUlp: 0, firstBad: 0n },
  },
  {
    name: 'fixed-point one step, maxUlp 1',
    claimed: [fx([10n ** 18n + 1n, 7n])],
    expected: [fx([10n ** 18n, 7n])],
    tol: { maxUlp: 1 },
    want: pass(1),
  },
  {
    name: 'fixed-point beyond maxAbs',
    claimed: [fx([1n, 10n ** 9n + 8n])],
    expected: [fx([1n, 7n])],
    tol: { maxAbsE9: 1n },
    want: { ok: false, worstUlp: 10 ** 9 + 1, firstBad: 1n },
  },
  {
    name: 'fixed-point within maxAbs',
    claimed: [fx([1n, 10n ** 9n + 7n])],
    expected: [fx([1n, 7n])],
    tol: { maxAbsE9: 1n },
    want: pass(10 ** 9),
  },
  {
    name: 'float16 one ulp, maxUlp 1',
    claimed: [f16([1, 1.0009765625])],
    expected: [f16([1, 1])],
    tol: { maxUlp: 1 },
    want: pass(1),
  },
  {
    name: 'float16 one ulp, maxUlp 0',
    claimed: [f16([1, 1.0009765625])],
    expected: [f16([1, 1])],
    tol: {},
    want: { ok: false, worstUlp: 1, firstBad: 1n },
  },
  {
    name: 'first bad across outputs; integers exact',
    claimed: [f32([1, 2], 'a'), tensorFromValues('b', DType.int64, [3], [5n, 6n, 8n])],
    expected: [f32([1, 2], 'a'), tensorFromValues('b', DType.int64, [3], [5n, 6n, 7n])],
    tol: { maxUlp: 10 },
    want: { ok: false, worstUlp: 0, firstBad: 4n },
  },
]

/** docs/gas.md: 8,000 + ceil(data bytes of both sets / 32) × 1 + elements compared × 1, under consensus-v2. */
function documentedGas(elements: number, bytes: number): number {
  const v2 = GAS_SCHEDULES['consensus-v2']
  expect([v2.base, v2.perInputWord, v2.perToleranceElement]).toEqual([8_000n, 1n, 1n])
  return 8_000 + Math.ceil(bytes / 32) + elements
}

const call = (c: Tensor[], e: Tensor[], t: Tolerance) =>
  iface.encodeFunctionData('withinTolerance', [c.map(abiTensor), e.map(abiTensor), t.maxUlp, t.maxAbsE9, t.sameArgmax])
const full = (t: Partial<Tolerance>): Tolerance => ({ maxUlp: 0, maxAbsE9: 0n, sameArgmax: false, ...t })
const sameStructure = (c: Tensor[], e: Tensor[]) =>
  c.length === e.length &&
  c.every((t, i) => t.name === e[i].name && t.dtype === e[i].dtype && t.shape.join() === e[i].shape.join())

describe('the precompile withinTolerance (devnet, real EVM)', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider
  let proxy: Contract
  let caller: Contract

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    const wallet = new Wallet(KEY0, provider)
    const p = compileContract(`${REPO_ROOT}test/fixtures/GasProxy.sol`, 'GasProxy')
    proxy = (await new ContractFactory(p.abi, p.bytecode, wallet).deploy()) as Contract
    await proxy.waitForDeployment()
    const c = compileContract(`${REPO_ROOT}test/fixtures/ToleranceCaller.sol`, 'ToleranceCaller')
    caller = (await new ContractFactory(c.abi, c.bytecode, wallet).deploy()) as Contract
    await caller.waitForDeployment()
  }, 180_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })

  /** The precompile's frame when GasProxy hands it `gas` (debug_traceCall, callTracer). */
  async function frame(data: string, gas: number): Promise<{ gasUsed: number; output?: string; error?: string }> {
    const r = await rpc(devnet.url, 'debug_traceCall', [
      {
        from: ADDR1,
        to: await proxy.getAddress(),
        data: proxy.interface.encodeFunctionData('forward', [INFERENCE, data, gas]),
        gas: '0x2000000',
      },
      'latest',
      { tracer: 'callTracer' },
    ])
    expect(r.error).toBeUndefined()
    expect(r.result.calls).toHaveLength(1)
    const f = r.result.calls[0]
    return { gasUsed: Number(f.gasUsed), output: f.output, error: f.error }
  }

  async function reason(data: string): Promise<string> {
    const r = await rpc(devnet.url, 'eth_call', [{ from: ADDR1, to: INFERENCE, data }, 'latest'])
    expect(r.error?.code).toBe(3)
    return errorIface.decodeErrorResult('Error', r.error.data)[0]
  }

  it('has the selector of contracts/ILatticeInference.sol', () => {
    expect(SELECTORS.withinTolerance).toBe(iface.getFunction('withinTolerance')!.selector)
  })

  for (const k of CASES) {
    it(`${k.name}: the verdict, the TS comparator's, and base + per element gas`, async () => {
      const t = full(k.tol)
      const data = call(k.claimed, k.expected, t)
      // the TS comparator the CLI imports gives the same verdict
      expect(withinTolerance(k.claimed, k.expected, t)).toEqual(k.want)
      const got = iface.decodeFunctionResult('withinTolerance', await provider.call({ to: INFERENCE, data }))
      expect({ ok: got.ok, worstUlp: Number(got.worstUlp), firstBad: got.firstBad }).toEqual(k.want)
      // through Solidity's interface (a STATICCALL from a contract)
      const viaSol = await caller.judge(
        k.claimed.map(abiTensor),
        k.expected.map(abiTensor),
        t.maxUlp,
        t.maxAbsE9,
        t.sameArgmax,
      )
      expect([viaSol[0], Number(viaSol[1]), viaSol[2]]).toEqual([k.want.ok, k.want.worstUlp, k.want.firstBad])
      // gas: base + words of both sets' data + elements compared (none when the structures differ)
      const elements = sameStructure(k.claimed, k.expected)
        ? k.expected.reduce((s, x) => s + numElements(x.shape), 0)
        : 0
      const bytes = [...k.claimed, ...k.expected].reduce((s, x) => s + x.data.length, 0)
      const gas = documentedGas(elements, bytes)
      expect(Number(toleranceGas(elements, bytes))).toBe(gas)
      const f = await frame(data, 1_000_000)
      expect(f.error).toBeUndefined()
      expect(f.gasUsed).toBe(gas)
      // one gas short: out of gas, everything handed is consumed
      const short = await frame(data, gas - 1)
      expect(short.gasUsed).toBe(gas - 1)
      expect(short.error).toBeDefined()
    }, 60_000)
  }

  it('gas grows per element: 10,000 float32 elements', async () => {
    const n = 10_000
    const a = f32(Array.from({ length: n }, (_, i) => i / 7))
    const data = call([a], [a], full({}))
    // 8,000 + 2 × 40,000 bytes / 32 + 10,000
    expect(documentedGas(n, 8 * n)).toBe(20_500)
    expect((await frame(data, 5_000_000)).gasUsed).toBe(20_500)
  }, 60_000)

  it('malformed input reverts with Error(string), keeping the base', async () => {
    const good = call([f32([1])], [f32([1])], full({}))
    const words = good.slice(10)
    const at = (w: number, hex: string) =>
      `${good.slice(0, 10)}${words.slice(0, w * 64)}${hex.padStart(64, '0')}${words.slice((w + 1) * 64)}`
    const bad: [string, string, RegExp][] = [
      ['truncated', good.slice(0, good.length - 64), /^malformed calldata: /],
      ['maxUlp over uint32', at(2, '100000000'), /maxUlp 4294967296 does not fit uint32/],
      ['maxAbsE9 over uint64', at(3, '10000000000000000'), /maxAbsE9 18446744073709551616 does not fit uint64/],
      ['sameArgmax not a bool', at(4, '2'), /sameArgmax 2 is not a bool/],
      ['claimed offset out of range', at(0, 'ffff'), /malformed calldata: offset of argument 1/],
      [
        'data length not matching the shape',
        call([{ ...f32([1, 2]), shape: [3] }], [f32([1, 2])], full({})),
        /^withinTolerance: .*"y".*/,
      ],
      ['unknown dtype', call([{ ...f32([1]), dtype: 4 }], [f32([1])], full({})), /^withinTolerance: .*dtype/],
      [
        'too many tensors',
        call(
          Array.from({ length: 65 }, (_, i) => f32([i], `t${i}`)),
          [],
          full({}),
        ),
        /withinTolerance: claimed has 65 tensors, the limit is 64/,
      ],
    ]
    for (const [what, data, re] of bad) {
      expect(await reason(data), what).toMatch(re)
      const f = await frame(data, 1_000_000)
      expect(f.error, what).toBeDefined()
      expect(f.gasUsed, what).toBe(Number(INFERENCE_GAS.base))
    }
  }, 120_000)

  it('runs in a mined transaction (status 1) and leaves no inference record', async () => {
    const data = call([f32([1])], [f32([1])], full({}))
    const hash = await rpc(devnet.url, 'eth_sendTransaction', [{ from: ADDR1, to: INFERENCE, data, gas: '0x100000' }])
    const receipt = (await rpc(devnet.url, 'eth_getTransactionReceipt', [hash.result])).result
    expect(receipt.status).toBe('0x1')
    expect(await devnet.node.chain.getInferenceRecords(Buffer.from(receipt.blockHash.slice(2), 'hex'))).toEqual([])
  }, 60_000)

  it('consensus-v1 has no price for it', () => {
    expect(toleranceGas(10, 40, GAS_SCHEDULES['consensus-v1'])).toBeUndefined()
  })
})

describe('withinTolerance on a consensus-v1 chain', () => {
  it('is an unknown selector there, as it was when v1 chains were built', async () => {
    const base = loadChainSpec()
    const spec = { ...base, lattice: { ...base.lattice, inference: { profile: 'consensus-v1' } } }
    spec.geth = { ...spec.geth, config: { ...spec.geth.config, lattice: spec.lattice } }
    const devnet = await startTestDevnet({ spec })
    try {
      const data = call([f32([1])], [f32([1])], full({}))
      const r = await rpc(devnet.url, 'eth_call', [{ from: ADDR1, to: INFERENCE, data }, 'latest'])
      expect(r.error?.code).toBe(3)
      expect(errorIface.decodeErrorResult('Error', r.error.data)[0]).toMatch(
        new RegExp(`^unknown selector ${SELECTORS.withinTolerance}`),
      )
    } finally {
      await devnet.stop()
    }
  }, 180_000)
})
