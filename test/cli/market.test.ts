// The market CLI's pieces that need no chain: the tensor hash the market checks, the precompile's fixed-point
// rule, the test-only lie, the provider runner on a real IPFS store, and the commands' refusals (no GPU here).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder, keccak256 } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildIrisModel } from '../../examples/models/iris.ts'
import { abiTensors, marketInterface, revertText, tensorsHash, tensorsOfAbi } from '../../src/cli/market/client.ts'
import { createProviderRunner, outputDecimals } from '../../src/cli/market/runner.ts'
import { LIE_ENV, lieForTest, lieMode } from '../../src/cli/market/test-lie.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import { DType, fixedCode, type Tensor, tensorFromValues, tensorValues } from '../../src/inference/tensor.ts'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { addModelPackage } from '../../src/storage/package.ts'
import { runCli } from '../helpers/cli.ts'

const TENSOR = 'tuple(string,uint8,uint64[],bytes)[]'
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

/** Iris features in cm as fixed-point with 4 decimals, as IrisClassifier sends them. */
function irisInputs(): Tensor[] {
  return [tensorFromValues('x', fixedCode(4), [1, 4], [51000n, 35000n, 14000n, 2000n])]
}

function argmaxRows(t: Tensor): number[] {
  const v = tensorValues(t).map(Number)
  const row = t.shape.at(-1) ?? 1
  const out: number[] = []
  for (let i = 0; i < v.length; i += row) {
    const r = v.slice(i, i + row)
    out.push(r.indexOf(Math.max(...r)))
  }
  return out
}

describe('market client encoding', () => {
  it('hashes Tensor[] as keccak256(abi.encode(tensors)), the hash the market checks', () => {
    const ts = [
      tensorFromValues('probabilities', fixedCode(4), [1, 3], [9876n, 100n, 24n]),
      tensorFromValues('label', DType.int64, [1], [0n]),
      tensorFromValues('', DType.float32, [], [1.5]),
    ]
    const viaEthers = keccak256(AbiCoder.defaultAbiCoder().encode([TENSOR], [abiTensors(ts)]))
    expect(tensorsHash(ts)).toBe(viaEthers)
    const back = tensorsOfAbi(
      AbiCoder.defaultAbiCoder().decode([TENSOR], AbiCoder.defaultAbiCoder().encode([TENSOR], [abiTensors(ts)]))[0],
    )
    expect(tensorsHash(back)).toBe(viaEthers)
  })

  it("names the market's custom errors in a revert, and keeps the node's message otherwise", () => {
    const data = marketInterface.encodeErrorResult('WindowOpen', [3n, 14n])
    expect(revertText('execution reverted', data)).toBe('WindowOpen(3, 14)')
    expect(revertText('execution reverted', '0x')).toBe('execution reverted')
    expect(revertText('out of gas', undefined)).toBe('out of gas')
  })

  it('returns fixed-point outputs with the largest decimals of any fixed-point input, as the precompile', () => {
    expect(outputDecimals([tensorFromValues('x', DType.float32, [1], [1])])).toBeUndefined()
    expect(
      outputDecimals([tensorFromValues('a', fixedCode(4), [1], [1n]), tensorFromValues('b', fixedCode(18), [1], [1n])]),
    ).toBe(18)
  })
})

describe('test-only executor lie', () => {
  const probs = tensorFromValues('p', fixedCode(4), [2, 3], [9000n, 900n, 100n, 100n, 8000n, 1900n])
  const label = tensorFromValues('label', DType.int64, [2], [0n, 1n])
  const floats = tensorFromValues('f', DType.float32, [1, 3], [0.5, 0.25, 0.25])

  it('is off unless the variable is set, and refuses an unknown lie', () => {
    expect(lieMode({})).toBeUndefined()
    expect(lieMode({ [LIE_ENV]: 'scale' })).toBe('scale')
    expect(() => lieMode({ [LIE_ENV]: 'fib' })).toThrow(/scale or argmax/)
  })

  it('scale: every value far from the truth, integers moved by one', () => {
    const [p, l, f] = lieForTest('scale', [probs, label, floats])
    expect(tensorValues(p)).toEqual([28000n, 11800n, 10200n, 10200n, 26000n, 13800n])
    expect(tensorValues(l)).toEqual([1n, 2n])
    expect(tensorValues(f)).toEqual([2, 1.5, 1.5])
    expect(p.dtype).toBe(probs.dtype)
    expect(p.shape).toEqual(probs.shape)
  })

  it('argmax: the largest element of every row moves', () => {
    const [p, , f] = lieForTest('argmax', [probs, label, floats])
    expect(argmaxRows(probs)).toEqual([0, 1])
    expect(argmaxRows(p)).not.toEqual([0, 1])
    expect(argmaxRows(p).every((a, i) => a !== [0, 1][i])).toBe(true)
    expect(argmaxRows(f)).not.toEqual(argmaxRows(floats))
  })
})

describe('provider runner', () => {
  let dir: string
  let model: { modelId: string; cid: string; digest: string }
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-executor-'))
    const pkg = join(dir, 'pkg')
    mkdirSync(pkg)
    writeFileSync(join(pkg, 'iris.onnx'), buildIrisModel())
    const store = await createEmbeddedModelStore({ datadir: join(dir, 'store') })
    try {
      const r = await addModelPackage(store, { dir: pkg }, { name: 'iris' })
      model = { modelId: `0x${'11'.repeat(32)}`, cid: r.manifestCid, digest: r.digest }
    } finally {
      await store.close()
    }
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('runs a package from its IPFS store on cpu with the precompile output encoding, near the consensus bits', async () => {
    const store = await createEmbeddedModelStore({ datadir: join(dir, 'store') })
    const runner = await createProviderRunner({ provider: 'cpu', store, cacheDir: join(dir, 'cache') })
    const consensus = await createConsensusSession({ model: buildIrisModel() })
    try {
      const outputs = await runner.run(model, irisInputs())
      const expected = await consensus.run(irisInputs(), { outputDecimals: 4 })
      expect(outputs.map((t) => [t.name, t.dtype, t.shape])).toEqual(expected.map((t) => [t.name, t.dtype, t.shape]))
      // fixed-point with 4 decimals: native and WebAssembly agree to the last step here or are one step apart
      outputs.forEach((t, i) => {
        const a = tensorValues(t).map(Number)
        const b = tensorValues(expected[i]).map(Number)
        for (const [j, v] of a.entries()) expect(Math.abs(v - b[j])).toBeLessThanOrEqual(1)
      })
      // the second run comes from the cached, verified file and the cached session
      expect(tensorsHash(await runner.run(model, irisInputs()))).toBe(tensorsHash(outputs))
    } finally {
      await runner.close()
      await consensus.dispose()
      await store.close()
    }
  })

  it('refuses a package the store does not have, saying where to put it', async () => {
    const store = await createEmbeddedModelStore({ datadir: join(dir, 'empty') })
    const runner = await createProviderRunner({ provider: 'cpu', store, cacheDir: join(dir, 'cache2') })
    try {
      await expect(runner.run(model, irisInputs())).rejects.toThrow(/Cannot read the package of model .*--ipfs-api/)
    } finally {
      await runner.close()
      await store.close()
    }
  })
})

describe('market commands refuse bad flags before touching a node', () => {
  it('executor --provider cuda fails naming what is missing (no NVIDIA GPU or CUDA libraries here)', async () => {
    const r = await runCli([
      'executor',
      '--provider',
      'cuda',
      '--key',
      KEY,
      '--stake',
      '1',
      '--rpc',
      'http://127.0.0.1:1',
    ])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/--provider cuda is not available on this machine: .+\. Run `lattice devices`/)
  })

  it('executor --provider with an unknown name, and without a provider', async () => {
    const bad = await runCli(['executor', '--provider', 'tpu', '--json'])
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.out).error).toMatchObject({
      code: 'BAD_FLAG',
      message: expect.stringMatching(/cpu, cuda, coreml, webgpu/),
    })
    const none = await runCli(['executor', '--key', KEY])
    expect(none.err).toMatch(/Pass --provider cpu/)
  })

  it('claim challenge, model set-tolerance and executor status check their arguments', async () => {
    expect((await runCli(['claim', 'challenge', 'one', '--key', KEY])).err).toMatch(/not a request id/)
    expect((await runCli(['model', 'set-tolerance', '0x12', '--key', KEY])).err).toMatch(/not a model id/)
    const id = `0x${'ab'.repeat(32)}`
    expect((await runCli(['model', 'set-tolerance', id, '--max-ulp', '-1', '--key', KEY])).err).toMatch(/--max-ulp/)
    expect((await runCli(['model', 'set-tolerance', id, '--max-abs', 'lots', '--key', KEY])).err).toMatch(/--max-abs/)
    expect((await runCli(['executor', 'status', 'nobody', '--rpc', 'http://127.0.0.1:1'])).err).toMatch(
      /Cannot reach a Lattice node/,
    )
    expect((await runCli(['challenger', '--poll-ms', '1', '--key', KEY])).err).toMatch(/--poll-ms/)
  })
})
