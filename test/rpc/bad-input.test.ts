import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, bytesToHex, concatBytes, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR1, KEY0, rpc, startTestDevnet } from '../helpers/devnet.ts'

describe('bad input never stops the node', () => {
  let devnet: TestDevnet
  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(devnet.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })

  beforeAll(async () => {
    devnet = await startTestDevnet()
  })
  afterAll(async () => {
    await devnet.stop()
  })
  afterEach(async () => {
    // after every bad request the node still answers
    const r = await rpc(devnet.url, 'eth_blockNumber')
    expect(r.result).toMatch(/^0x/)
  })

  it('malformed JSON is -32700', async () => {
    const res = await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"')
    expect(((await res.json()) as any).error.code).toBe(-32700)
  })

  it('a request without a method is -32600', async () => {
    const res = await post('{"jsonrpc":"2.0","id":1}')
    expect(((await res.json()) as any).error.code).toBe(-32600)
  })

  it('an empty batch is -32600', async () => {
    expect(((await (await post('[]')).json()) as any).error.code).toBe(-32600)
  })

  it('an unknown method is -32601', async () => {
    const r = await rpc(devnet.url, 'eth_doesNotExist')
    expect(r.error.code).toBe(-32601)
  })

  it.each([
    ['eth_getBalance', ['0x1234', 'latest'], /address/],
    ['eth_getBalance', [42, 'latest'], /address/],
    ['eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'yesterday'], /block/],
    ['eth_getBlockByNumber', ['0x01', false], /leading zero/],
    ['eth_getBlockByNumber', ['latest', 'yes'], /hydrated/],
    ['eth_getStorageAt', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'zz', 'latest'], /storage slot/],
    ['eth_call', ['not an object'], /transaction/],
    ['eth_call', [{ to: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', value: 12 }], /transaction\.value/],
    ['eth_getTransactionByHash', ['0xabc'], /hash/],
    ['eth_sendRawTransaction', ['0xzz'], /transaction/],
    ['eth_getLogs', [{ topics: 'x' }], /topics/],
    ['eth_getBalance', [], /missing value/],
  ])('%s with %j is -32602 naming the parameter', async (method, params, pattern) => {
    const r = await rpc(devnet.url, method as string, params as unknown[])
    expect(r.error.code).toBe(-32602)
    expect(r.error.message).toMatch(pattern)
  })

  it('an oversized body is refused with 413 and a JSON-RPC error', async () => {
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_call',
      params: [{ data: `0x${'00'.repeat(3 * 1024 * 1024)}` }],
    })
    const res = await post(huge)
    expect(res.status).toBe(413)
    const body = (await res.json()) as any
    expect(body.error.code).toBe(-32600)
    expect(body.error.message).toMatch(/too large/)
  })

  it('a huge batch is refused, a normal one served', async () => {
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'eth_chainId' })
    const big = (await (await post(JSON.stringify(Array.from({ length: 1001 }, (_, i) => call(i))))).json()) as any
    expect(big.error.code).toBe(-32600)
    expect(big.error.message).toMatch(/batch/)
    const ok = (await (await post(JSON.stringify(Array.from({ length: 3 }, (_, i) => call(i))))).json()) as any
    expect(ok.map((r: any) => r.result)).toEqual(['0xa110', '0xa110', '0xa110'])
  })

  it('a batch mixing good and bad calls answers each', async () => {
    const res = (await (
      await post(
        JSON.stringify([
          { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
          { jsonrpc: '2.0', id: 2, method: 'nope' },
          { jsonrpc: '2.0', id: 3, method: 'eth_getBalance', params: ['bad'] },
        ]),
      )
    ).json()) as any
    expect(res.find((r: any) => r.id === 1).result).toBe('0xa110')
    expect(res.find((r: any) => r.id === 2).error.code).toBe(-32601)
    expect(res.find((r: any) => r.id === 3).error.code).toBe(-32602)
  })

  it('a transaction signed by someone without funds is rejected as such', async () => {
    const tx = createFeeMarket1559Tx(
      {
        nonce: 0n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
        gasLimit: 21000n,
        to: createAddressFromString(ADDR1),
        chainId: 41232n,
      },
      { common: devnet.node.chain.common },
    ).sign(hexToBytes(KEY0))
    const raw = tx.serialize()
    // flip a byte inside s: the signature now recovers some other, empty account
    raw[raw.length - 5] ^= 0xff
    const r = await rpc(devnet.url, 'eth_sendRawTransaction', [bytesToHex(raw)])
    expect(r.error.code).toBe(-32000)
    expect(r.error.message).toMatch(/insufficient funds/)
  })

  it('a transaction with an invalid signature (high s, EIP-2) is rejected', async () => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    // built by hand: ethereumjs refuses to construct such a transaction
    const fields = [
      41232n,
      0n,
      1n,
      10n ** 10n,
      21000n,
      hexToBytes(ADDR1 as `0x${string}`),
      0n,
      new Uint8Array(),
      [],
      0n,
      1n,
      n - 1n,
    ]
    const raw = concatBytes(
      new Uint8Array([2]),
      RLP.encode(fields.map((f) => (typeof f === 'bigint' ? bigIntToUnpaddedBytes(f) : f))),
    )
    const r = await rpc(devnet.url, 'eth_sendRawTransaction', [bytesToHex(raw)])
    expect(r.error.code).toBe(-32000)
    expect(r.error.message).toMatch(/signature/i)
  })

  it('garbage bytes as a transaction are rejected', async () => {
    const r = await rpc(devnet.url, 'eth_sendRawTransaction', ['0x02deadbeef'])
    expect(r.error.code).toBe(-32000)
    expect(r.error.message).toMatch(/cannot decode transaction/)
  })

  it('unlocked sending is refused for accounts that are not dev accounts', async () => {
    const r = await rpc(devnet.url, 'eth_sendTransaction', [
      { from: '0x000000000000000000000000000000000000dEaD', to: ADDR1 },
    ])
    expect(r.error.message).toMatch(/unknown account/)
  })

  it('a WebSocket client sending garbage gets a parse error and stays connected', async () => {
    const { WebSocket } = await import('ws')
    const ws = new WebSocket(devnet.server.wsUrl)
    await new Promise((r) => ws.once('open', r))
    const replies: any[] = []
    ws.on('message', (m) => replies.push(JSON.parse(m.toString())))
    ws.send('{{{')
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_chainId' }))
    const deadline = Date.now() + 5000
    while (replies.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    ws.close()
    expect(replies[0].error.code).toBe(-32700)
    expect(replies[1]).toMatchObject({ id: 7, result: '0xa110' })
  })
})
