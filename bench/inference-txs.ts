// A stream of automined inference transactions against a devnet the bench started as its own process (bench/helpers
// `startHttpTarget`), as a user's client sends them: pre-signed `infer` calls of one of the devnet's example models,
// each sent and awaited to its receipt over HTTP. Shared by bench:devnet (its iris row) and bench:precompile.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { exampleModels } from '../examples/models/index.ts'
import type { Tensor } from '../src/inference/tensor.ts'
import { abiTensor, INFERENCE, inferenceAbi } from '../test/helpers/models.ts'
import { type HttpTarget, processCpuMs, receiptSoon, rpc } from './helpers.ts'

/** The devnet's test mnemonic, account #3: no other workload of the benches sends from it. */
const KEY = '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'
const FROM = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'

export interface InferenceTxs {
  /** Send-to-receipt wall ms of each transaction. */
  walls: number[]
  /** The devnet process's CPU ms (every thread) over the stream, per transaction. */
  nodeCpuPerTx: number
}

/**
 * `count` signed `infer` transactions (raw, hex) of the example model `model` (deployed by the devnet at start, its
 * id in `<datadir>/examples.json`) with `inputs` (default: the model's sample input), from account #3 at its next
 * nonces. Signed before anything is timed: client-side signing is not part of a measurement.
 */
export async function signInferenceTxs(
  t: { url: string; datadir?: string },
  model: string,
  count: number,
  inputs?: Tensor[],
): Promise<string[]> {
  if (!t.datadir) throw new Error('signInferenceTxs: the target is not a devnet')
  const saved = JSON.parse(readFileSync(join(t.datadir, 'examples.json'), 'utf8')) as {
    models: { name: string; modelId: string }[]
  }
  const modelId = saved.models.find((m) => m.name === model)?.modelId
  if (!modelId) throw new Error(`the devnet has no example model ${model}`)
  const input = inputs ?? exampleModels({ only: [model] })[0].sampleInput
  const data = hexToBytes(inferenceAbi.encodeFunctionData('infer', [modelId, input.map(abiTensor)]) as `0x${string}`)
  const chainId = BigInt(await rpc(t.url, 'eth_chainId'))
  const common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork: 'prague' })
  const nonce = BigInt(await rpc(t.url, 'eth_getTransactionCount', [FROM, 'latest']))
  return Array.from({ length: count }, (_, i) =>
    bytesToHex(
      createFeeMarket1559Tx(
        {
          nonce: nonce + BigInt(i),
          maxFeePerGas: 100n * 10n ** 9n,
          maxPriorityFeePerGas: 10n ** 9n,
          // fixed rather than estimated: an estimate runs the model again, and hit the 5 s call limit under load
          gasLimit: 10_000_000n,
          to: createAddressFromString(INFERENCE),
          data,
          chainId,
        },
        { common },
      )
        .sign(hexToBytes(KEY))
        .serialize(),
    ),
  )
}

/**
 * `count` pre-signed `infer` transactions of the example model `model` ({@link signInferenceTxs}), one after
 * another, each to its receipt; throws if one reverts.
 */
export async function inferenceTxStream(
  t: HttpTarget,
  model: string,
  count: number,
  inputs?: Tensor[],
): Promise<InferenceTxs> {
  const raws = await signInferenceTxs(t, model, count, inputs)
  const walls: number[] = []
  const cpu0 = processCpuMs(t.child.pid!)
  for (const raw of raws) {
    const t0 = performance.now()
    const r = await receiptSoon(t.url, await rpc(t.url, 'eth_sendRawTransaction', [raw]))
    if (r.status !== '0x1') throw new Error(`${model} inference transaction reverted`)
    walls.push(performance.now() - t0)
  }
  return { walls, nodeCpuPerTx: (processCpuMs(t.child.pid!) - cpu0) / count }
}
