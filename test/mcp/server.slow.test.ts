// `lattice mcp` over stdio against a devnet with the example models, driven by the SDK's Client.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Contract, encryptKeystoreJson, type InterfaceAbi, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contractAbi } from '../../src/chain/abi.ts'
import { modelInferenceCommand } from '../../src/cli/commands/model-inference.ts'
import { deployDevnetExamples } from '../../src/cli/devnet-examples.ts'
import { parseTensorJson } from '../../src/inference/json.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, ADDR1, KEY0, KEY1, rpc, startTestDevnet } from '../helpers/devnet.ts'
import { callTool, stdioClient, textOf } from './clients.ts'

const READ_TOOLS = [
  'call_inference',
  'chain_status',
  'estimate_inference',
  'get_inference_proof',
  'get_model',
  'list_models',
  'verify_inference_proof',
]
const REGISTRY = '0xA110000000000000000000000000000000000001'
const SETOSA = { x: [[5.1, 3.5, 1.4, 0.2]] }

/** `lattice model inference --json` in-process: its printed JSON. */
async function cliInference(rpcUrl: string, modelId: string, inputFile: string): Promise<any> {
  let out = ''
  const sink = (w: (s: string) => void) =>
    new Writable({
      write(c, _e, cb) {
        w(String(c))
        cb()
      },
    })
  const code = await modelInferenceCommand.run(
    [],
    { rpcUrl, json: true, modelId, input: inputFile },
    { stdout: sink((s) => (out += s)), stderr: sink(() => {}), isTTY: false },
  )
  expect(code).toBe(0)
  return JSON.parse(out)
}

describe('lattice mcp over stdio', () => {
  let devnet: TestDevnet
  let dir: string
  let iris: string
  let signed: Awaited<ReturnType<typeof stdioClient>>
  let readOnly: Awaited<ReturnType<typeof stdioClient>>

  beforeAll(async () => {
    devnet = await startTestDevnet()
    const ex = await deployDevnetExamples(devnet, devnet.datadir)
    iris = ex.models.find((m) => m.name === 'iris')!.modelId
    dir = mkdtempSync(join(tmpdir(), 'lattice-mcp-'))
    // one server with a key (from the environment, as an MCP client config passes it), one forced read-only
    ;[signed, readOnly] = await Promise.all([
      stdioClient(['--rpc-url', devnet.url, '--poll', '500'], { LATTICE_PRIVATE_KEY: KEY1 }),
      stdioClient(['--rpc-url', devnet.url, '--read-only', '--private-key', KEY0]),
    ])
  })
  afterAll(async () => {
    await signed?.close()
    await readOnly?.close()
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('lists its tools through the SDK client (the CI "inspector lists the tools" check)', async () => {
    const { tools } = await signed.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS, 'deploy_model', 'send_inference'].sort())
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object')
      expect(t.outputSchema?.type).toBe('object')
      expect(t.description?.length).toBeGreaterThan(20)
    }
    const call = tools.find((t) => t.name === 'call_inference')!
    expect(call.inputSchema.required).toEqual(['modelId', 'inputs'])
    expect(call.annotations?.readOnlyHint).toBe(true)
    expect(tools.find((t) => t.name === 'send_inference')!.annotations?.readOnlyHint).toBe(false)
    // --read-only wins over a key: no state-changing tool is offered
    const ro = await readOnly.client.listTools()
    expect(ro.tools.map((t) => t.name).sort()).toEqual(READ_TOOLS)
    const st = await callTool(readOnly.client, 'chain_status', {})
    expect(st.structuredContent).toMatchObject({ readOnly: true, signer: null, chainId: '0xa110' })
    expect((await callTool(signed.client, 'chain_status', {})).structuredContent).toMatchObject({
      readOnly: false,
      signer: ADDR1.toLowerCase(),
    })
  })

  it('unlocks a --keystore with LATTICE_KEYSTORE_PASSWORD (stdio has no terminal to prompt on)', async () => {
    const w = Wallet.createRandom()
    const file = join(dir, 'key.json')
    writeFileSync(
      file,
      await encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, 'pw', { scrypt: { N: 1024 } }),
    )
    const ks = await stdioClient(['--rpc-url', devnet.url, '--keystore', file], { LATTICE_KEYSTORE_PASSWORD: 'pw' })
    try {
      const st = await callTool(ks.client, 'chain_status', {})
      expect(st.structuredContent).toMatchObject({ readOnly: false, signer: w.address.toLowerCase() })
    } finally {
      await ks.close()
    }
    // without the password it does not start, and says what to set
    await expect(stdioClient(['--rpc-url', devnet.url, '--keystore', file])).rejects.toThrow(
      /Set LATTICE_KEYSTORE_PASSWORD/,
    )
  })

  it('lists a resource per model and the chain status; a model card has io, shapes, FLOPs, price, CID', async () => {
    const { resources } = await signed.client.listResources()
    const uris = resources.map((r) => r.uri)
    expect(uris).toContain('lattice://chain/status')
    expect(uris.filter((u) => u.startsWith('lattice://models/'))).toHaveLength(3)
    const r = await signed.client.readResource({ uri: `lattice://models/${iris}` })
    const card = JSON.parse((r.contents[0] as { text: string }).text)
    expect(card).toMatchObject({
      modelId: iris,
      name: 'iris',
      status: 'active',
      policy: 'public',
      priceWei: '0',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
      flopsProfile: { shapes: { x: [1, 4] } },
    })
    expect(card.cid).toMatch(/^baf/)
    expect(Number(card.flopsProfile.flops)).toBeGreaterThan(0)
    const status = JSON.parse(
      ((await signed.client.readResource({ uri: 'lattice://chain/status' })).contents[0] as { text: string }).text,
    )
    expect(status.head.number).toBeGreaterThan(0)
    expect(status.registry.models).toBe(3)
    // search: free text over name and io
    const found = await callTool(readOnly.client, 'list_models', { query: 'float32[N,4]' })
    expect((found.structuredContent as any).models.map((m: any) => m.name)).toEqual(['iris'])
  })

  it('classifies an iris input through eth_call with the same bits as `lattice model inference`', async () => {
    const r = await callTool(readOnly.client, 'call_inference', { modelId: iris, inputs: SETOSA })
    expect(r.isError).toBeFalsy()
    const out = r.structuredContent as any
    const file = join(dir, 'setosa.json')
    writeFileSync(file, JSON.stringify({ inputs: SETOSA }))
    const cli = await cliInference(devnet.url, iris, file)
    expect(out.outputs).toEqual(cli.outputs)
    // byte for byte: the CLI's printed tensors parse back to exactly the bytes the tool returned
    const cliTensors = parseTensorJson({ outputs: cli.outputs }, { key: 'outputs' })
    expect(out.raw.map((t: any) => t.name)).toEqual(cliTensors.map((t) => t.name))
    for (const [i, t] of cliTensors.entries()) {
      expect(out.raw[i].data).toBe(`0x${Buffer.from(t.data).toString('hex')}`)
      expect(out.raw[i].shape).toEqual(t.shape)
      expect(out.raw[i].dtype).toBe(t.dtype)
    }
    expect(Number(out.cost.inferenceGas)).toBeGreaterThan(0)
    const est = await callTool(readOnly.client, 'estimate_inference', { modelId: iris, inputs: SETOSA })
    expect(est.structuredContent).toMatchObject({ modelId: iris, cost: out.cost })
    const e = est.structuredContent as any
    expect(BigInt(e.txGas)).toBeGreaterThan(BigInt(out.cost.inferenceGas))
    expect(BigInt(e.estimatedCostWei)).toBe(BigInt(e.txGas) * BigInt(e.gasPrice))
  })

  it('sends an inference transaction (stating gas and price) and verifies its proof through the tools', async () => {
    const call = (await callTool(signed.client, 'call_inference', { modelId: iris, inputs: SETOSA }))
      .structuredContent as any
    // a limit below the quote sends nothing
    const refused = await callTool(signed.client, 'send_inference', { modelId: iris, inputs: SETOSA, maxCostWei: '1' })
    expect(refused.isError).toBe(true)
    expect(textOf(refused)).toMatch(/^MCP_COST_LIMIT: The inference could cost up to \d+ wei .* nothing was sent/)
    const nonce = BigInt((await rpc(devnet.url, 'eth_getTransactionCount', [ADDR1, 'latest'])).result)
    expect(nonce).toBe(0n)

    const sent = await callTool(signed.client, 'send_inference', { modelId: iris, inputs: SETOSA })
    expect(sent.isError, textOf(sent)).toBeFalsy()
    const s = sent.structuredContent as any
    expect(s.status).toBe('success')
    expect(s.outputs).toEqual(call.outputs)
    expect(s.raw).toEqual(call.raw)
    const receipt = (await rpc(devnet.url, 'eth_getTransactionReceipt', [s.txHash])).result
    expect(BigInt(s.paid.gasUsed)).toBe(BigInt(receipt.gasUsed))
    expect(BigInt(s.paid.gasFeeWei)).toBe(BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice))
    expect(s.paid.priceWei).toBe('0')
    expect(BigInt(s.paid.totalWei)).toBeLessThanOrEqual(BigInt(s.quote.maxCostWei))
    expect(s.receipt.transactionHash).toBe(s.txHash)
    expect(textOf(sent)).toMatch(/gas used \d+ at \d+ wei/)

    const proof = await callTool(readOnly.client, 'get_inference_proof', { txHash: s.txHash })
    expect(proof.isError, textOf(proof)).toBeFalsy()
    const p = proof.structuredContent as any
    expect(p.record).toMatchObject({ txHash: s.txHash, modelId: iris })
    // the head is the inference's block: the verifier's answer is simulated in the next block
    const v1 = (await callTool(readOnly.client, 'verify_inference_proof', { proof: p })).structuredContent as any
    expect(v1).toMatchObject({
      valid: true,
      merkle: { valid: true },
      signatures: { valid: true },
      onChain: { valid: true },
    })
    expect(v1.onChain.checkedAt).toMatch(/simulated/)
    // a tampered record is refused by every check that reads it
    const bad = { ...p, record: { ...p.record, outputHash: `0x${'11'.repeat(32)}` } }
    const v2 = (await callTool(readOnly.client, 'verify_inference_proof', { proof: bad })).structuredContent as any
    expect(v2).toMatchObject({ valid: false, merkle: { valid: false }, onChain: { valid: false } })
    // one block later the root is in state and the check is a plain eth_call, here by tx hash
    await rpc(devnet.url, 'evm_mine', [])
    const v3 = await callTool(signed.client, 'verify_inference_proof', { txHash: s.txHash })
    expect(v3.structuredContent).toMatchObject({ valid: true, onChain: { valid: true } })
    expect((v3.structuredContent as any).onChain.checkedAt).not.toMatch(/simulated/)
  })

  it('runs a priced model only with a signer, and the result states the price paid', async () => {
    const bigram = (await callTool(readOnly.client, 'list_models', { name: 'bigram' })).structuredContent as any
    const id = bigram.models[0].modelId
    const price = 10n ** 15n
    const provider = new JsonRpcProvider(devnet.url, undefined, { staticNetwork: true, cacheTimeout: -1 })
    provider.pollingInterval = 50
    try {
      const registry = new Contract(REGISTRY, contractAbi('ModelRegistry') as InterfaceAbi, new Wallet(KEY0, provider))
      await (await registry.setPrice(id, price)).wait()
      const tokens = { tokens: [[1, 2, 3]] }
      const ro = await callTool(readOnly.client, 'call_inference', { modelId: id, inputs: tokens })
      expect(ro.isError).toBe(true)
      expect(textOf(ro)).toMatch(/costs 1000000000000000 wei per inference/)
      const est = (await callTool(signed.client, 'estimate_inference', { modelId: id, inputs: tokens }))
        .structuredContent as any
      expect(est.cost.priceWei).toBe(price.toString())
      expect(BigInt(est.estimatedCostWei)).toBe(BigInt(est.txGas) * BigInt(est.gasPrice) + price)
      const before = await registry.balances(ADDR0)
      const sent = await callTool(signed.client, 'send_inference', { modelId: id, inputs: tokens })
      expect(sent.isError, textOf(sent)).toBeFalsy()
      const s = sent.structuredContent as any
      expect(s.paid.priceWei).toBe(price.toString())
      expect(BigInt(s.paid.totalWei)).toBe(BigInt(s.paid.gasFeeWei) + price)
      expect(await registry.balances(ADDR0)).toBe(before + price)
      expect(s.raw.map((t: any) => t.name)).toEqual(['logits', 'next'])
    } finally {
      provider.destroy()
    }
  })

  it('answers an unknown model and a wrong input shape with clear tool errors, and keeps serving', async () => {
    const unknown = `0x${'ab'.repeat(32)}`
    const r1 = await callTool(readOnly.client, 'call_inference', { modelId: unknown, inputs: SETOSA })
    expect(r1.isError).toBe(true)
    expect(textOf(r1)).toBe(
      `MCP_UNKNOWN_MODEL: No model ${unknown} in the registry of the node at ${devnet.url}. Call list_models to see the registered ids.`,
    )
    const r2 = await callTool(readOnly.client, 'call_inference', { modelId: iris, inputs: { x: [[5.1, 3.5, 1.4]] } })
    expect(r2.isError).toBe(true)
    expect(textOf(r2)).toMatch(/input "x" has shape \[1,3\] but the model needs \[N,4\]/)
    const r3 = await callTool(signed.client, 'send_inference', { modelId: iris, inputs: { y: [[1, 2, 3, 4]] } })
    expect(r3.isError).toBe(true)
    expect(textOf(r3)).toMatch(/^MCP_BAD_INPUT: inputs for model .*"y"/)
    const r4 = await callTool(readOnly.client, 'get_model', { modelId: 'iris' })
    expect(r4.isError).toBe(true)
    expect(textOf(r4)).toMatch(/modelId/)
    const r5 = await callTool(readOnly.client, 'get_inference_proof', { txHash: `0x${'00'.repeat(32)}` })
    expect(r5.isError).toBe(true)
    expect(textOf(r5)).toMatch(/^MCP_NODE: /)
    // still serving after the errors
    const ok = await callTool(readOnly.client, 'get_model', { modelId: iris })
    expect((ok.structuredContent as any).name).toBe('iris')
  })
})
