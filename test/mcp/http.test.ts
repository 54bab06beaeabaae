// `lattice mcp --transport http` against a devnet with the example models: SDK clients over streamable HTTP,
// a deploy through the tools, and the resource-list-changed notification it causes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deployDevnetExamples } from '../../src/cli/devnet-examples.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, KEY0, startTestDevnet } from '../helpers/devnet.ts'
import { exampleModel } from '../helpers/models.ts'
import { callTool, httpClient, httpServer, textOf } from './clients.ts'

/** A raw POST with a chosen Host header (what a DNS-rebinding page would send). */
function postWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }))
  })
}

describe('lattice mcp over streamable HTTP', () => {
  let devnet: TestDevnet
  let dir: string
  let iris: string
  let server: Awaited<ReturnType<typeof httpServer>>

  beforeAll(async () => {
    devnet = await startTestDevnet()
    const ex = await deployDevnetExamples(devnet, devnet.datadir)
    iris = ex.models.find((m) => m.name === 'iris')!.modelId
    dir = mkdtempSync(join(tmpdir(), 'lattice-mcp-http-'))
    server = await httpServer(['--rpc-url', devnet.url, '--private-key', KEY0, '--poll', '300'])
  })
  afterAll(async () => {
    await server?.stop()
    await devnet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('binds 127.0.0.1, lists tools and resources, and runs an eth_call inference', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    const { client, close } = await httpClient(server.url)
    try {
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['call_inference', 'send_inference', 'deploy_model']),
      )
      const { resources } = await client.listResources()
      expect(resources.map((r) => r.uri)).toEqual(
        expect.arrayContaining(['lattice://chain/status', `lattice://models/${iris}`]),
      )
      const r = await callTool(client, 'call_inference', { modelId: iris, inputs: { x: [[6.7, 3.0, 5.2, 2.3]] } })
      expect(r.isError, textOf(r)).toBeFalsy()
      expect(Object.keys((r.structuredContent as any).outputs).length).toBeGreaterThan(0)
      const bad = await callTool(client, 'estimate_inference', { modelId: iris, inputs: { x: [[1, 2]] } })
      expect(bad.isError).toBe(true)
      expect(textOf(bad)).toMatch(/has shape \[1,2\] but the model needs \[N,4\]/)
    } finally {
      await close()
    }
    // a page on another origin cannot reach the server through a rebound DNS name
    expect(await postWithHost(server.url, 'evil.example:80')).toBe(403)
  })

  it('deploys a model from a local file; every session is told the resource list changed', async () => {
    const a = await httpClient(server.url)
    const b = await httpClient(server.url)
    try {
      const told = (c: typeof a) =>
        new Promise<void>((resolve) =>
          c.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => resolve()),
        )
      const toldA = told(a)
      const toldB = told(b)
      const path = join(dir, 'iris.onnx')
      writeFileSync(path, exampleModel('iris').bytes)
      const r = await callTool(a.client, 'deploy_model', { path, name: 'iris-mcp', inputShapes: { x: [1, 4] } })
      expect(r.isError, textOf(r)).toBeFalsy()
      const d = r.structuredContent as any
      expect(d).toMatchObject({ owner: ADDR0, io: expect.stringContaining('x:float32[N,4]') })
      expect(BigInt(d.gasFeeWei)).toBeGreaterThan(0n)
      await Promise.all([toldA, toldB])
      const { resources } = await b.client.listResources()
      expect(resources.map((x) => x.uri)).toContain(`lattice://models/${d.modelId}`)
      const card = await callTool(b.client, 'get_model', { modelId: d.modelId })
      expect(card.structuredContent).toMatchObject({ name: 'iris-mcp', cid: d.cid })
      // a file that is not a model is a tool error naming the argument
      const notModel = await callTool(a.client, 'deploy_model', { path: join(dir, 'nope.onnx'), name: 'x' })
      expect(notModel.isError).toBe(true)
      expect(textOf(notModel)).toMatch(/^MCP_BAD_INPUT: path: No model at .*nope\.onnx/)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
