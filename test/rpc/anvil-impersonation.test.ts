// Impersonation reaches the precompile: an allowlisted model runs for a transaction sent (without its key) from the
// impersonated allowlisted address, and not for another sender; eth_call from it is allowed too.
import { Contract, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR1, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import {
  abiTensor,
  deployModel,
  exampleModel,
  INFERENCE,
  inferenceAbi,
  REGISTRY,
  registryAbi,
} from '../helpers/models.ts'

const ALLOWED = '0x3333333333333333333333333333333333333333'

async function ok(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await rpc(url, method, params)
  if (r.error) throw new Error(`${method}: ${JSON.stringify(r.error)}`)
  return r.result
}

describe('impersonation and the precompile', () => {
  let devnet: TestDevnet
  let provider: JsonRpcProvider

  beforeAll(async () => {
    devnet = await startTestDevnet()
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  }, 120_000)
  afterAll(async () => {
    provider?.destroy()
    await devnet?.stop()
  })

  it('the precompile sees the impersonated sender as the caller', async () => {
    const owner = new Wallet(KEY0, provider)
    const iris = exampleModel('iris')
    // policy 2: allowlist
    const { modelId } = await deployModel(devnet.store, owner, iris.bytes, { name: 'iris-allow', policy: 2 })
    await (await (new Contract(REGISTRY, registryAbi, owner) as any).allow(modelId, ALLOWED)).wait()
    const data = inferenceAbi.encodeFunctionData('infer', [modelId, iris.sampleInput.map(abiTensor)])
    const send = (from: string) =>
      ok(devnet.url, 'eth_sendTransaction', [{ from, to: INFERENCE, data, gas: '0x1e8480' }])

    // a dev account that is not on the allowlist: the precompile reverts
    const refused = await rpc(devnet.url, 'eth_call', [{ from: ADDR1, to: INFERENCE, data }, 'latest'])
    expect(refused.error?.message).toMatch(/not allowed/)
    const bad = await ok(devnet.url, 'eth_getTransactionReceipt', [await send(ADDR1)])
    expect(bad.status).toBe('0x0')

    // the allowlisted address, impersonated: no key, and the model runs for it
    await ok(devnet.url, 'anvil_setBalance', [ALLOWED, '0x56bc75e2d63100000'])
    await ok(devnet.url, 'anvil_impersonateAccount', [ALLOWED])
    const out = await ok(devnet.url, 'eth_call', [{ from: ALLOWED, to: INFERENCE, data }, 'latest'])
    expect(out.length).toBeGreaterThan(2)
    const hash = await send(ALLOWED)
    const good = await ok(devnet.url, 'eth_getTransactionReceipt', [hash])
    expect(good.status).toBe('0x1')
    expect(good.from).toBe(ALLOWED)
  }, 180_000)
})
