/**
 * Regenerates failure-vectors.json: `node --import tsx test/precompiles/failure-vectors.gen.ts`.
 * Model ids are deterministic (owner, name, version), so the calldata is fixed; the test deploys the same
 * fixture models from the devnet's account #0 before replaying the vectors.
 */
import { writeFileSync } from 'node:fs'
import { AbiCoder, keccak256 } from 'ethers'
import { CURRENT_GAS_SCHEDULE } from '../../src/inference/flops/schedule.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { ADDR0 } from '../helpers/devnet.ts'
import { abiTensor, inferenceAbi } from '../helpers/models.ts'

const id = (name: string) =>
  keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'string', 'string'], [ADDR0, name, '1']))
const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
const infer = (model: string, inputs: unknown[]) => inferenceAbi.encodeFunctionData('infer', [model, inputs])
const good = [abiTensor(x)]
const iris = id('iris')

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
  // one gas below base + FLOPs + bytes (the test asks `estimate` for that figure): halts before any run
  { name: 'gas below the static cost', calldata: infer(iris, good), gas: 'static-1', expectedError: 'out of gas' },
  {
    name: 'gas below the base cost',
    calldata: infer(iris, good),
    gas: Number(CURRENT_GAS_SCHEDULE.base) - 1_000,
    expectedError: 'out of gas',
  },
]

writeFileSync(new URL('./failure-vectors.json', import.meta.url), `${JSON.stringify(vectors, null, 2)}\n`)
console.log(`${vectors.length} vectors`)
