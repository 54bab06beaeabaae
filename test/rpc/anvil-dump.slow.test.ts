// anvil_dumpState / anvil_loadState at size: 10k accounts (with code and storage) loaded into one devnet, dumped,
// and loaded into a fresh devnet give the same state root; the dump is the same line for line.
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { rpc, startTestDevnet } from '../helpers/devnet.ts'

const ACCOUNTS = 10_000

async function ok(url: string, method: string, params: unknown[] = []): Promise<any> {
  const r = await rpc(url, method, params)
  if (r.error) throw new Error(`${method}: ${JSON.stringify(r.error)}`)
  return r.result
}

const lines = (hex: string) =>
  gunzipSync(Buffer.from(hex.slice(2), 'hex'))
    .toString()
    .split('\n')

describe('anvil_dumpState / anvil_loadState with 10k accounts', () => {
  let a: TestDevnet
  let b: TestDevnet

  beforeAll(async () => {
    ;[a, b] = await Promise.all([startTestDevnet(), startTestDevnet()])
  }, 120_000)
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('dump and load give the same state root', async () => {
    const accounts: Record<string, unknown> = {}
    for (let i = 1; i <= ACCOUNTS; i++) {
      const addr = `0x${i.toString(16).padStart(40, '0').replace(/^0/, 'b')}`
      accounts[addr] = {
        nonce: i % 7,
        balance: `0x${(BigInt(i) * 10n ** 15n).toString(16)}`,
        code: i % 10 === 0 ? '0x60005460005260206000f3' : '0x',
        storage: i % 10 === 0 ? { '0x0': `0x${i.toString(16).padStart(64, '0')}`, '0x1': `0x${'ff'.repeat(32)}` } : {},
      }
    }
    const anvilDump = `0x${gzipSync(JSON.stringify({ accounts })).toString('hex')}`
    const rss0 = process.memoryUsage().rss
    let t = performance.now()
    expect(await ok(a.url, 'anvil_loadState', [anvilDump])).toBe(true)
    const loadAnvil = performance.now() - t
    t = performance.now()
    const dump = await ok(a.url, 'anvil_dumpState')
    const dumpMs = performance.now() - t
    t = performance.now()
    expect(await ok(b.url, 'anvil_loadState', [dump])).toBe(true)
    const loadMs = performance.now() - t
    const again = await ok(b.url, 'anvil_dumpState')
    const rss1 = process.memoryUsage().rss
    const [ha, hb] = [JSON.parse(lines(dump)[0]), JSON.parse(lines(again)[0])]
    expect(hb.stateRoot).toBe(ha.stateRoot)
    expect(lines(again).slice(1)).toEqual(lines(dump).slice(1))
    expect(lines(dump).length).toBeGreaterThan(ACCOUNTS)
    // both heads then mine a block on the same state: same state root in the headers too (same genesis, same time)
    const ts = `0x${(Math.floor(Date.now() / 1000) + 100).toString(16)}`
    await ok(a.url, 'evm_mine', [ts])
    await ok(b.url, 'evm_mine', [ts])
    const [ba, bb] = await Promise.all([
      ok(a.url, 'eth_getBlockByNumber', ['latest', false]),
      ok(b.url, 'eth_getBlockByNumber', ['latest', false]),
    ])
    expect(bb.stateRoot).toBe(ba.stateRoot)
    console.log(
      `10k accounts: anvil-format load ${loadAnvil.toFixed(0)} ms, dump ${dumpMs.toFixed(0)} ms (${(dump.length / 2 / 1024).toFixed(0)} KiB gzip), load ${loadMs.toFixed(0)} ms; RSS ${(rss0 / 2 ** 20).toFixed(0)} -> ${(rss1 / 2 ** 20).toFixed(0)} MiB`,
    )
    // 151 s of this test's 180 s budget on a clean clone at load 20 (npm test); npm run test:slow since
  }, 400_000)
})
