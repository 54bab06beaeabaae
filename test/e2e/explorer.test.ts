// The explorer page in headless Chromium (Debian's chromium, driven by puppeteer-core): a devnet with the examples,
// an IrisClassifier.classify transaction, then home -> block -> transaction -> model -> proof, asserting what each
// page shows. Screenshots go to build/test-artifacts/explorer/ (gitignored).
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Contract, JsonRpcProvider, Wallet, ZeroAddress } from 'ethers'
import type { Browser, Page } from 'puppeteer-core'
import { launch } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DevnetExamples } from '../../src/cli/devnet-examples.ts'
import { deployDevnetExamples } from '../../src/cli/devnet-examples.ts'
import { MARKET_ABI, MARKET_ADDRESS } from '../../src/cli/market/client.ts'
import { fixedCode, tensorFromValues } from '../../src/inference/tensor.ts'
import type { RpcServer } from '../../src/rpc/server.ts'
import { startRpcServer } from '../../src/rpc/server.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { REPO_ROOT } from '../helpers/solc.ts'

// the browser side of page.evaluate callbacks (the project compiles without the DOM library)
declare const document: any
declare const location: any

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(REPO_ROOT, 'build', 'test-artifacts', 'explorer')

describe('explorer page (headless Chromium)', () => {
  let devnet: TestDevnet
  let examples: DevnetExamples
  let browser: Browser | undefined
  let page: Page
  let txHash: string
  let block: number
  let explorer: string
  const consoleErrors: string[] = []
  /** Every URL the page asked for: nothing but the node's own origin. */
  const requested: string[] = []

  /** Wait for the page's current route to finish rendering. */
  async function ready(p: Page = page): Promise<void> {
    await p.waitForSelector('body[data-ready="1"]', { timeout: 60_000 })
  }

  async function go(hash: string): Promise<void> {
    await page.evaluate((h) => {
      document.body.dataset.ready = ''
      location.hash = h
    }, hash)
    await ready()
  }

  async function click(selector: string): Promise<void> {
    await page.waitForSelector(selector, { timeout: 30_000 })
    await page.evaluate(() => {
      document.body.dataset.ready = ''
    })
    await page.click(selector)
    await ready()
  }

  const text = (selector: string) => page.$eval(selector, (e) => e.textContent ?? '')
  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png`, fullPage: true })

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    devnet = await startTestDevnet()
    examples = await deployDevnetExamples(devnet, devnet.datadir)
    const provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    provider.pollingInterval = 50
    try {
      const iris = examples.contracts.find((c) => c.name === 'IrisClassifier')!
      const c = new Contract(
        iris.address,
        ['function classify(int256[] featuresE4) returns (uint256)'],
        new Wallet(KEY0, provider),
      )
      const receipt = await (await c.classify([51000n, 35000n, 14000n, 2000n], { gasLimit: 5_000_000 })).wait()
      txHash = receipt.hash
      block = receipt.blockNumber
    } finally {
      provider.destroy()
    }
    // the block after the inference writes its block's inference root, which InferenceVerifier checks against
    await rpc(devnet.url, 'evm_mine')
    explorer = `${devnet.url}/explorer/`
    browser = await launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless=new'],
      defaultViewport: { width: 1280, height: 900 },
    })
    page = await browser.newPage()
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(String(e)))
    page.on('request', (r) => requested.push(r.url()))
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await devnet?.stop()
  })

  it('loads from the node in under a second and shows the live head', async () => {
    // the page's own measure: from the start of navigation to the first page drawn with the node's data; the best
    // of five loads, as other test files share the machine's two cores
    const times: number[] = []
    const outside: number[] = []
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now()
      await page.goto(explorer, { waitUntil: 'load' })
      await ready()
      outside.push(Date.now() - t0)
      times.push(Number(await page.evaluate(() => document.body.dataset.loadMs)))
    }
    const head = Number((await rpc(devnet.url, 'eth_blockNumber')).result)
    await page.waitForFunction(
      (h) => document.getElementById('head')?.textContent === String(h),
      { timeout: 30_000 },
      head,
    )
    expect(await text('[data-testid="home-head"]')).toBe(String(head))
    console.log(
      `explorer home page load, navigation start to rendered (5 loads): ${times.join(', ')} ms in the page, ${outside.join(', ')} ms seen by the test`,
    )
    // the page loads nothing from other origins (its CSP forbids it) and logs no errors
    expect(consoleErrors).toEqual([])
    expect(Math.min(...times)).toBeLessThan(1000)
    await shot('1-home')
  })

  it('the head updates within one block of a new head (eth_subscribe newHeads)', async () => {
    await page.waitForFunction(() => document.getElementById('live')?.dataset.state === 'live', { timeout: 30_000 })
    const before = Number(await text('#head'))
    const t0 = Date.now()
    await rpc(devnet.url, 'evm_mine')
    await page.waitForFunction(
      (n) => document.getElementById('head')?.textContent === String(n),
      { timeout: 30_000 },
      before + 1,
    )
    const ms = Date.now() - t0
    console.log(`explorer head update after evm_mine: ${ms} ms`)
    // the home page redraws its block list with the new block
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="home-head"]')?.textContent === String(n),
      { timeout: 30_000 },
      before + 1,
    )
    // nothing else was mined meanwhile: the page was one block behind at most
    expect(Number((await rpc(devnet.url, 'eth_blockNumber')).result)).toBe(before + 1)
  })

  it('block -> transaction -> model -> proof', async () => {
    await go(`#/block/${block}`)
    expect(await text('[data-testid="block-number"]')).toBe(String(block))
    expect(await text('[data-testid="block-txcount"]')).toBe('1')
    const row = await text('#block-txs tbody tr')
    expect(row).toContain('inference')
    expect(row).toContain('success')
    await shot('2-block')

    await click(`#block-txs a[href="#/tx/${txHash}"]`)
    expect(await text('[data-testid="tx-hash"]')).toBe(txHash)
    const calls = await text('#inference-calls tbody')
    const proof = (await rpc(devnet.url, 'lattice_getInferenceProof', [txHash])).result
    expect(calls).toContain('iris v1')
    // IrisClassifier sends one flower as fixed-point with 4 decimals; the model answers probabilities and a class
    expect(calls).toMatch(/x: fixed4\[1,4\]/)
    expect(calls).toMatch(/probabilities: \w+\[1,3\]/)
    expect(await text('[data-testid="inf-flops"]')).toBe(BigInt(proof.record.flops).toLocaleString('en-US'))
    expect(calls).toContain(proof.record.outputHash.slice(0, 8))
    await shot('3-transaction')
    // a phone: switching to a mobile viewport reloads the page
    await page.setViewport({ width: 390, height: 844, isMobile: true })
    await ready()
    expect(await text('#inference-calls tbody')).toContain('iris v1')
    await shot('3-transaction-phone')
    await page.setViewport({ width: 1280, height: 900 })
    await ready()

    await click('#inference-calls a[href^="#/model/"]')
    expect(await text('[data-testid="model-name"]')).toBe('iris')
    expect(await text('[data-testid="model-id"]')).toBe(proof.record.modelId)
    expect(Number(await text('[data-testid="model-runs"]'))).toBeGreaterThanOrEqual(1)
    expect(await text('#model-inferences tbody')).toContain(txHash.slice(0, 8))
    await shot('4-model')

    await click(`#model-inferences a[href="#/proof/${txHash}/0"]`)
    expect(await text('[data-testid="verdict"]')).toContain('proof valid')
    await shot('5-proof')
  })

  it('models, an address, pinning and search', async () => {
    await go('#/models')
    const models = await text('#models tbody')
    for (const m of examples.models) expect(models).toContain(m.name)
    await shot('6-models')
    await page.setViewport({ width: 390, height: 844, isMobile: true })
    await ready()
    await shot('6-models-phone')
    await page.setViewport({ width: 1280, height: 900 })
    await ready()

    const iris = examples.contracts.find((c) => c.name === 'IrisClassifier')!.address.toLowerCase()
    await go(`#/address/${iris}`)
    expect(await text('[data-testid="address"]')).toBe(iris)
    expect(await text('#address-txs tbody')).toContain(txHash.slice(0, 8))
    await shot('7-address')

    // a call to a Lattice system contract is named from its ABI
    const registered = (await rpc(devnet.url, 'lattice_getModel', [examples.models[0].modelId])).result.registeredTx
    await go(`#/tx/${registered}`)
    expect(await page.$eval('main', (e) => e.textContent)).toContain('ModelRegistry.register')

    await go('#/pinning')
    expect(await text('[data-testid="pinned-models"]')).toMatch(/^\d+$/)
    // IPFSIncentives read from the browser: the devnet starts with no pinner
    expect(await text('[data-testid="pinner-count"]')).toBe('0')
    expect(await text('#pinners tbody')).toContain('No pinner has registered')
    await shot('8-pinning')

    // search: a block number, a transaction hash, a model id
    for (const [q, route] of [
      [String(block), 'block'],
      [txHash, 'tx'],
      [examples.models[0].modelId, 'model'],
      ['bigram', 'model'],
      [examples.contracts[0].address, 'address'],
    ]) {
      await page.evaluate(() => {
        document.body.dataset.ready = ''
      })
      await page.$eval(
        '#q',
        (e, v) => {
          ;(e as any).value = v as string
        },
        q,
      )
      await page.click('#search button')
      await page.waitForFunction(
        (r) => document.body.dataset.route === r && document.body.dataset.ready === '1',
        { timeout: 30_000 },
        route,
      )
    }
    expect(consoleErrors).toEqual([])
    const origin = new URL(devnet.url).origin
    expect(requested.length).toBeGreaterThan(10)
    expect(requested.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'))).toEqual([])
  })

  it("the InferenceMarket's transactions: method and events decoded from its ABI (issue 20)", async () => {
    const provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    provider.pollingInterval = 50
    let requestTx: string
    try {
      const market = new Contract(MARKET_ADDRESS, MARKET_ABI as never, new Wallet(KEY0, provider))
      const modelId = examples.models.find((m) => m.name === 'iris')!.modelId
      await (await market.setTolerance(modelId, 4, 0, false)).wait()
      const x = tensorFromValues('x', fixedCode(4), [1, 4], [51000n, 35000n, 14000n, 2000n])
      const inputs = [[x.name, x.dtype, x.shape, x.data]]
      requestTx = (await (await market.requestInference(modelId, inputs, ZeroAddress, 0n)).wait()).hash
    } finally {
      provider.destroy()
    }
    await go(`#/tx/${requestTx}`)
    expect(await page.$eval('main', (e) => e.textContent)).toContain('IInferenceMarket.requestInference')
    const events = await text('#events tbody')
    expect(events).toContain('IInferenceMarket.InferenceRequested')
    expect(events).toContain('requestId=1')
    expect(events).toContain('inputs=[x: fixed4[1,4]]')
    await shot('9-market-request')
    expect(consoleErrors).toEqual([])
  })

  it('--no-explorer: the RPC port serves no page', async () => {
    let server: RpcServer | undefined
    try {
      server = await startRpcServer({
        node: devnet.node,
        port: 0,
        devnet: true,
        clientVersion: 'test',
        explorer: false,
      })
      const off = await fetch(`${server.url}/explorer/`)
      expect(await off.text()).toContain('Lattice JSON-RPC')
      const on = await fetch(explorer)
      expect(on.headers.get('content-type')).toContain('text/html')
      expect((await fetch(`${devnet.url}/explorer/abi/InferenceVerifier.json`)).status).toBe(200)
      expect((await fetch(`${devnet.url}/explorer/..%2Fserve.ts`)).status).toBe(404)
    } finally {
      await server?.close()
    }
  })
})
