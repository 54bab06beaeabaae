import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { frameRequest, nestingExceeds } from '../../src/rpc/framing.ts'
import { byteScanNestingExceeds } from '../helpers/byte-scan.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { rpc, startTestDevnet } from '../helpers/devnet.ts'

const bytes = (s: string) => new TextEncoder().encode(s)
const deepArrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
const CHAIN_ID = { jsonrpc: '2.0', id: 1, method: 'eth_chainId' }

describe('nestingExceeds', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(nestingExceeds(bytes(deepArrays(128)), 128)).toBe(false)
    expect(nestingExceeds(bytes(deepArrays(129)), 128)).toBe(true)
    expect(nestingExceeds(bytes(`${'{"a":'.repeat(129)}1${'}'.repeat(129)}`), 128)).toBe(true)
    expect(nestingExceeds(bytes(JSON.stringify({ s: '['.repeat(500) })), 128)).toBe(false)
    // an escaped quote does not end the string
    expect(nestingExceeds(bytes(JSON.stringify({ s: `\\"${'['.repeat(500)}` })), 128)).toBe(false)
    expect(nestingExceeds(bytes(JSON.stringify({ s: '\u00e9['.repeat(200) })), 128)).toBe(false)
  })

  it('gives what a byte-by-byte scan gives on any mix of quotes, backslashes and brackets', () => {
    const reference = byteScanNestingExceeds
    const alphabet = ['"', '\\', '[', ']', '{', '}', 'a', ':', ',']
    let x = 12345
    const next = () => {
      x = (x * 1103515245 + 12345) >>> 0
      return x >>> 16
    }
    let deep = 0
    for (let k = 0; k < 5000; k++) {
      const len = next() % 60
      let text = ''
      for (let i = 0; i < len; i++) text += alphabet[next() % alphabet.length]
      const body = bytes(text)
      for (const max of [0, 1, 2, 4]) {
        const want = reference(body, max)
        if (want) deep++
        expect(nestingExceeds(body, max), `${JSON.stringify(text)} max ${max}`).toBe(want)
      }
    }
    // both outcomes were exercised
    expect(deep).toBeGreaterThan(1000)
    expect(deep).toBeLessThan(19_000)
  })

  it('scans 5 MB of nesting without recursion', () => {
    const body = bytes(deepArrays(2_500_000))
    expect(nestingExceeds(body, 128)).toBe(true)
    // the whole body, when the deep part comes last
    const late = bytes(`[${'1,'.repeat(2_000_000)}${deepArrays(200)}]`)
    expect(nestingExceeds(late, 128)).toBe(true)
  })
})

describe('frameRequest', () => {
  const echo = async (req: object) => {
    const r = req as { id?: unknown; method?: unknown }
    return r.id === undefined ? undefined : { jsonrpc: '2.0', id: r.id, result: r.method }
  }
  const frame = async (body: string) => {
    const text = await frameRequest(bytes(body), echo, { maxBatch: 4 })
    return text === '' ? undefined : JSON.parse(text)
  }

  it('answers every batch entry, in order, invalid ones with -32600', async () => {
    expect(await frame('[[]]')).toEqual([
      { jsonrpc: '2.0', id: null, error: expect.objectContaining({ code: -32600 }) },
    ])
    expect((await frame('[[1]]'))[0].error.code).toBe(-32600)
    expect((await frame(`[[${JSON.stringify(CHAIN_ID)}]]`))[0].error.code).toBe(-32600)
    const mixed = await frame(`[${JSON.stringify(CHAIN_ID)},[],7,null]`)
    expect(mixed).toHaveLength(4)
    expect(mixed[0]).toEqual({ jsonrpc: '2.0', id: 1, result: 'eth_chainId' })
    expect(mixed.slice(1).map((r: any) => r.error.code)).toEqual([-32600, -32600, -32600])
  })

  it('refuses empty, oversized and non-object messages; parse errors are -32700', async () => {
    expect((await frame('[]')).error.code).toBe(-32600)
    expect((await frame('[{},{},{},{},{}]')).error.message).toMatch(/batch too large/)
    expect((await frame('1')).error.code).toBe(-32600)
    expect((await frame('"x"')).error.code).toBe(-32600)
    expect((await frame('{"a":')).error.code).toBe(-32700)
    expect((await frame(deepArrays(129))).error.code).toBe(-32600)
  })

  it('sends nothing for notifications only', async () => {
    expect(await frame('{"jsonrpc":"2.0","method":"x"}')).toBeUndefined()
    expect(await frame('[{"jsonrpc":"2.0","method":"x"}]')).toBeUndefined()
  })
})

describe('hostile bodies against a devnet', () => {
  let devnet: TestDevnet
  const post = async (body: string) => {
    const t0 = performance.now()
    const res = await fetch(devnet.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const text = await res.text()
    return { ms: performance.now() - t0, body: text === '' ? undefined : JSON.parse(text) }
  }

  beforeAll(async () => {
    devnet = await startTestDevnet()
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('nested batches and invalid entries each get a -32600 answer', async () => {
    const valid = JSON.stringify(CHAIN_ID)
    for (const body of ['[[]]', `[[${valid}]]`, '[[1]]']) {
      const r = await post(body)
      expect(r.body, body).toHaveLength(1)
      expect(r.body[0].error.code, body).toBe(-32600)
    }
    const mixed = await post(`[${valid},[]]`)
    expect(mixed.body).toHaveLength(2)
    expect(mixed.body[0].result).toBe('0xa110')
    expect(mixed.body[1].error.code).toBe(-32600)
  }, 60_000)

  it('a 5 MB body of nested arrays is -32600 fast while another client is served', async () => {
    const levels = 2_500_000
    const hostile = post(deepArrays(levels))
    const chainIdMs: number[] = []
    const pinger = (async () => {
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now()
        expect((await rpc(devnet.url, 'eth_chainId')).result).toBe('0xa110')
        chainIdMs.push(performance.now() - t0)
      }
    })()
    const [r] = await Promise.all([hostile, pinger])
    expect(r.body.error.code).toBe(-32600)
    console.log(
      `5 MB nested body answered in ${r.ms.toFixed(0)} ms; eth_chainId ${chainIdMs.map((m) => m.toFixed(0))} ms`,
    )
    // figures on a quiet machine: tens of ms; the bound leaves room for a loaded CI host
    expect(r.ms).toBeLessThan(2_000)
  }, 60_000)

  it('the same framing serves WebSocket messages', async () => {
    const ws = new WebSocket(devnet.server.wsUrl)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const answer = new Promise<any>((resolve) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))))
    })
    ws.send(`[${JSON.stringify(CHAIN_ID)},[1]]`)
    const r = await answer
    ws.close()
    expect(r).toHaveLength(2)
    expect(r[1].error.code).toBe(-32600)
  }, 60_000)
})
