/**
 * Regenerates failure-vectors.json: `node --import tsx test/precompiles/failure-vectors.gen.ts`.
 * Model ids are deterministic (owner, name, version), so the calldata is fixed; the test deploys the same
 * fixture models from the devnet's account #0 before replaying the vectors.
 *
 * Expected gas is written as plain numbers, so a later change of a price makes the test fail until the vectors
 * are regenerated on purpose. Failures before pricing cost the schedule's base; a call handed too little gas
 * consumes all of it; a success costs base + the FLOP counter's gas (counting included) + input and output
 * words (docs/gas.md). Outputs are computed here with the consensus session, apart from the precompile.
 */
import { writeFileSync } from 'node:fs'
import { AbiCoder, keccak256 } from 'ethers'
import { exampleModels } from '../../examples/models/index.ts'
import { CURRENT_GAS_SCHEDULE as S } from '../../src/inference/flops/schedule.ts'
import { createFlopCounter } from '../../src/inference/flops.ts'
import { createConsensusSession } from '../../src/inference/onnx.ts'
import { DType, type Tensor, tensorFromValues } from '../../src/inference/tensor.ts'
import { encodeTensors } from '../../src/precompiles/abi.ts'
import { ADDR0 } from '../helpers/devnet.ts'
import { abiTensor, inferenceAbi } from '../helpers/models.ts'

const id = (name: string) =>
  keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'string', 'string'], [ADDR0, name, '1']))
const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
const infer = (model: string, inputs: unknown[]) => inferenceAbi.encodeFunctionData('infer', [model, inputs])
const good = [abiTensor(x)]
const iris = id('iris')
const words = (bytes: number) => BigInt(Math.ceil(bytes / 32))
const bytesOf = (ts: readonly Tensor[]) => ts.reduce((n, t) => n + t.data.length, 0)

/** Outputs (as the precompile returns them) and gas of one float-input call, computed apart from the node. */
async function expectedRun(model: Uint8Array, inputs: Tensor[]): Promise<{ returned: Uint8Array; gas: bigint }> {
  const session = await createConsensusSession({ model })
  const outputs = await session.run(inputs)
  await session.dispose()
  const report = createFlopCounter({ model, schedule: S }).count(
    Object.fromEntries(inputs.map((t) => [t.name, t.shape])),
  )
  const gas =
    S.base + BigInt(report.gas) + words(bytesOf(inputs)) * S.perInputWord + words(bytesOf(outputs)) * S.perOutputWord
  return { returned: encodeTensors(outputs), gas }
}

const irisBytes = exampleModels().find((m) => m.name === 'iris')!.bytes
const irisStatic = (await expectedRun(irisBytes, [x])).gas
/** Everything that fails before the call is priced pays the base and nothing else (no counting yet). */
const BASE = Number(S.base)

const vectors = [
  { name: 'empty calldata', calldata: '0x', expectedError: 'unknown selector 0x' },
  { name: 'unknown selector', calldata: '0xdeadbeef', expectedError: 'unknown selector 0xdeadbeef' },
  { name: 'truncated ABI', calldata: infer(iris, good).slice(0, 80), expectedError: 'malformed calldata' },
  {
    name: 'ABI offset out of range',
    calldata: `${infer(iris, good).slice(0, 74)}${'ff'.repeat(32)}${infer(iris, good).slice(138)}`,
    expectedError: 'malformed calldata',
  },
  {
    name: 'unknown model',
    calldata: infer(`0x${'42'.repeat(32)}`, good),
    expectedError: `unknown model 0x${'42'.repeat(32)}`,
  },
  { name: 'deprecated model', calldata: infer(id('iris-old'), good), expectedError: 'is not active (deprecated)' },
  {
    name: 'caller not allowed: private model',
    calldata: infer(id('iris-private'), good),
    expectedError: 'private to its owner',
  },
  {
    name: 'caller not allowed: allowlist',
    calldata: infer(id('iris-allowlist'), good),
    expectedError: 'not on its allowlist',
  },
  {
    name: 'unpaid priced model',
    calldata: infer(id('iris-priced'), good),
    expectedError: 'costs 1000 wei per inference',
  },
  {
    name: 'wrong dtype',
    calldata: infer(iris, [abiTensor(tensorFromValues('x', DType.int32, [1, 4], [5, 3, 1, 0]))]),
    expectedError: 'input "x" has dtype int32 but the model needs float32',
  },
  {
    name: 'wrong shape',
    calldata: infer(iris, [abiTensor(tensorFromValues('x', DType.float32, [1, 3], [5.1, 3.5, 1.4]))]),
    expectedError: 'input "x" has shape [1,3] but the model needs [N,4]',
  },
  {
    name: 'wrong input name',
    calldata: infer(iris, [abiTensor(tensorFromValues('features', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2]))]),
    expectedError: 'input "features" is not an input of the model',
  },
  { name: 'missing input', calldata: infer(iris, []), expectedError: 'input "x" is missing' },
  {
    name: 'data length does not match the shape',
    calldata: infer(iris, [['x', 1, [1n, 4n], new Uint8Array(12)]]),
    expectedError: 'tensor "x" has 12 bytes of data but',
  },
  {
    name: 'oversized tensor',
    calldata: infer(iris, [['x', 1, [1n << 23n, 4n], new Uint8Array(0)]]),
    expectedError: 'tensor "x" has 33554432 elements',
  },
  {
    name: 'dimension over 2^32',
    calldata: infer(iris, [['x', 1, [1n << 40n, 4n], new Uint8Array(0)]]),
    expectedError: 'dimension 0 is 1099511627776, over 2^32',
  },
  {
    name: 'too many tensors',
    calldata: infer(
      iris,
      Array.from({ length: 65 }, (_, i) => abiTensor(tensorFromValues(`t${i}`, DType.float32, [1], [0]))),
    ),
    expectedError: 'tensors in the call',
  },
].map((v) => ({ ...v, expectedGas: BASE }))

const gasVectors = [
  // one gas below base + counting + FLOPs + bytes (the test also asks `estimate` for that figure): halts before
  // any run and consumes all the gas it was handed
  {
    name: 'gas below the static cost',
    calldata: infer(iris, good),
    gas: Number(irisStatic) - 1,
    expectedError: 'out of gas',
    expectedGas: Number(irisStatic) - 1,
    consumesAllGas: true,
  },
  {
    name: 'gas below the base cost',
    calldata: infer(iris, good),
    gas: BASE - 1_000,
    expectedError: 'out of gas',
    expectedGas: BASE - 1_000,
    consumesAllGas: true,
  },
]

/** Example models run through the precompile: the bytes it returns (keccak) and the gas it charges. */
const successes = []
for (const name of ['iris', 'edges']) {
  const m = exampleModels().find((e) => e.name === name)!
  const { returned, gas } = await expectedRun(m.bytes, m.sampleInput)
  successes.push({
    name: `${name} sample input`,
    model: name,
    calldata: infer(id(name), m.sampleInput.map(abiTensor)),
    expectedOutputHash: keccak256(returned),
    expectedGas: Number(gas),
  })
}

const out = { failures: [...vectors, ...gasVectors], successes }
writeFileSync(new URL('./failure-vectors.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`)
console.log(`${out.failures.length} failure vectors, ${successes.length} success vectors`)
