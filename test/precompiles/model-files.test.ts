import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, describe, expect, it } from 'vitest'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { modelCacheDir } from '../../src/storage/paths.ts'
import { ADDR0, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { abiTensor, deployModel, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

function flipByte(path: string, at = 100): void {
  const b = readFileSync(path)
  b[at % b.length] ^= 0xff
  writeFileSync(path, b)
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as any).path, e.name))
}

describe('model files on disk', () => {
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-modelfiles-'))
  afterAll(() => rmSync(datadir, { recursive: true, force: true }))
  const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])

  it('a corrupted file in the model cache is detected by its digest and repaired from IPFS', async () => {
    let devnet = await startTestDevnet({ datadir })
    let provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    const iris = await deployModel(devnet.store, new Wallet(KEY0, provider), exampleModel('iris').bytes, {
      name: 'iris',
    })
    const data = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
    const good = await provider.call({ to: INFERENCE, data })
    provider.destroy()
    await devnet.stop()

    const file = join(modelCacheDir(datadir), 'packages', iris.digest.slice(2), 'model.onnx')
    const sha = () => createHash('sha256').update(readFileSync(file)).digest('hex')
    const before = sha()
    flipByte(file)
    expect(sha()).not.toBe(before)

    // a fresh process: no session in memory, so the model is read from the cache again
    devnet = await startTestDevnet({ datadir })
    provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    expect(await provider.call({ to: INFERENCE, data })).toBe(good)
    expect(sha()).toBe(before)
    provider.destroy()
    await devnet.stop()
  })

  it('when neither the cache nor IPFS has intact bytes, calls fail with a clear error and the node stays up', async () => {
    const devnet = await startTestDevnet({ datadir })
    const iris = {
      modelId: (await import('ethers')).keccak256(
        (await import('ethers')).AbiCoder.defaultAbiCoder().encode(
          ['address', 'string', 'string'],
          [ADDR0, 'iris', '1'],
        ),
      ),
    }
    await devnet.stop()
    // the store's blocks live in one pack data file (src/storage/pack.ts): invert all of it
    for (const f of filesUnder(join(datadir, 'ipfs', 'pack'))) {
      if (!f.endsWith('.pack') || statSync(f).size <= 200) continue
      writeFileSync(
        f,
        readFileSync(f).map((v) => v ^ 0xff),
      )
    }
    rmSync(join(modelCacheDir(datadir), 'packages'), { recursive: true, force: true })

    const again = await startTestDevnet({ datadir })
    try {
      const data = inferenceAbi.encodeFunctionData('infer', [iris.modelId, [abiTensor(x)]])
      const call = await rpc(again.url, 'eth_call', [{ to: INFERENCE, data }, 'latest'])
      expect(call.error.code).toBe(-32000)
      expect(call.error.message).toMatch(/^model 0x[0-9a-f]{64} \(package \w+\) is not available on this node: /)
      const head = (await rpc(again.url, 'eth_blockNumber')).result
      // a transaction is refused, not mined as a revert: other nodes may have the model
      const sent = await rpc(again.url, 'eth_sendTransaction', [{ from: ADDR0, to: INFERENCE, data, gas: '0x100000' }])
      expect(sent.error.message).toMatch(/is not available on this node/)
      expect((await rpc(again.url, 'eth_blockNumber')).result).toBe(head)
      expect((await rpc(again.url, 'eth_chainId')).result).toBe('0xa110')
    } finally {
      await again.stop()
    }
  })
})
