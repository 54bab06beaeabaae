import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { ContractFactory, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, describe, expect, it } from 'vitest'
import { Chain } from '../../src/chain/chain.ts'
import { exportBlockFile, importBlockFile } from '../../src/cli/../chain/blockfile.ts'
import { openInferenceStack } from '../../src/cli/stack.ts'
import type { EmbeddedModelStore } from '../../src/storage/embedded.ts'
import { modelCacheDir } from '../../src/storage/paths.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { deployModel, exampleModel } from '../helpers/models.ts'
import { compileContract, REPO_ROOT } from '../helpers/solc.ts'

describe('a second node replays inference blocks', () => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f()
  })

  it('from the same genesis with an empty model cache, fetching the model from the first node over IPFS', async () => {
    const a: TestDevnet = await startTestDevnet({ ipfsNetwork: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
    cleanup.push(() => a.stop())
    const provider = new JsonRpcProvider(a.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    cleanup.push(() => provider.destroy())
    const wallet = new Wallet(KEY0, provider)
    const iris = await deployModel(a.store, wallet, exampleModel('iris').bytes, { name: 'iris' })
    const { abi, bytecode } = compileContract(`${REPO_ROOT}examples/contracts/IrisClassifier.sol`, 'IrisClassifier')
    const c = (await new ContractFactory(abi, bytecode, wallet).deploy(iris.modelId)) as any
    await c.waitForDeployment()
    await (await c.classify([51000n, 35000n, 14000n, 2000n])).wait()
    await (await c.classify([67000n, 30000n, 52000n, 23000n])).wait()
    expect(await c.lastLabel()).toBe('virginica')

    const dir = mkdtempSync(join(tmpdir(), 'lattice-replay-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'chain.rlp')
    await exportBlockFile(a.node.chain, file)

    const peers = (a.store as EmbeddedModelStore).network!.multiaddrs()
    const datadirB = join(dir, 'b')
    const stackB = await openInferenceStack({ datadir: datadirB, network: { peers } })
    cleanup.push(() => stackB.close())
    const chainB = await Chain.open({ datadir: datadirB, spec: a.spec, inference: stackB.inference })
    cleanup.push(() => chainB.close())
    const cacheDir = modelCacheDir(datadirB)
    expect(existsSync(cacheDir) ? readdirSync(join(cacheDir, 'packages')).length : 0).toBe(0)

    const result = await importBlockFile(chainB, file)
    expect(result.imported).toBe(Number(a.node.chain.head.header.number))
    expect(bytesToHex(chainB.head.hash())).toBe(bytesToHex(a.node.chain.head.hash()))
    expect(bytesToHex(chainB.head.header.stateRoot)).toBe(bytesToHex(a.node.chain.head.header.stateRoot))
    // the model came over IPFS into B's own cache, and B kept the same inference records
    expect(readdirSync(join(cacheDir, 'packages')).length).toBe(1)
    for (let n = 1n; n <= a.node.chain.head.header.number; n++) {
      const blockA = (await a.node.chain.getBlockByNumber(n))!
      expect(await chainB.getInferenceRecords(blockA.hash())).toEqual(
        await a.node.chain.getInferenceRecords(blockA.hash()),
      )
    }
    expect(stackB.inference.stats.runs).toBe(2)
  })
})
