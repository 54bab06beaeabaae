// `lattice devnet --dump-state FILE` writes the state at exit; `--load-state FILE` loads it at start into a fresh
// devnet, which ends at the same state root (anvil's flags, issue 18).
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { ADDR0, ADDR1, rpc } from '../helpers/devnet.ts'
import { freePort, startDevnetProcess, stopProcess } from '../helpers/devnet-process.ts'

const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'lattice-state-file-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(tmp, { recursive: true, force: true })
})

const OTHER = '0x000000000000000000000000000000000000bEEF'
const SLOT = `0x${'00'.repeat(31)}07`
const VALUE = `0x${'00'.repeat(30)}beef`

/** The state root in the header line of an anvil_dumpState answer (gzip, hex). */
async function rpcStateRoot(url: string): Promise<string> {
  const hex = (await rpc(url, 'anvil_dumpState', [])).result as string
  const text = gunzipSync(Buffer.from(hex.slice(2), 'hex')).toString('utf8')
  return JSON.parse(text.split('\n')[0]).stateRoot
}

/** Run `lattice devnet ...args` until it exits (it must fail to start): exit code and output. */
function runToExit(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'devnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    child.on('exit', (code) => resolve({ code, out }))
  })
}

describe('lattice devnet --dump-state / --load-state', () => {
  it('dumps at exit and loads at start into a fresh devnet: same accounts, storage and state root', async () => {
    const file = join(tmp, 'state.jsonl')
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const a = await startDevnetProcess({
      datadir: join(tmp, 'a'),
      port,
      args: ['--no-examples', '--dump-state', file],
      children,
      until: 'listening',
      timeoutMs: 150_000,
    })
    expect((await rpc(url, 'anvil_setBalance', [OTHER, '0x1234'])).error).toBeUndefined()
    expect((await rpc(url, 'anvil_setCode', [OTHER, '0x602a60005260206000f3'])).error).toBeUndefined()
    expect((await rpc(url, 'anvil_setStorageAt', [OTHER, SLOT, VALUE])).error).toBeUndefined()
    expect((await rpc(url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x5' }])).error).toBeUndefined()
    const rootA = await rpcStateRoot(url)
    const balance0 = (await rpc(url, 'eth_getBalance', [ADDR0, 'latest'])).result
    expect(await stopProcess(a)).toBe(0)

    expect(existsSync(file)).toBe(true)
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const header = JSON.parse(lines[0])
    expect(header).toMatchObject({ format: 'lattice-state/1', stateRoot: rootA })
    expect(lines.length).toBeGreaterThan(11) // ten dev accounts, the edited one, system contracts

    const port2 = await freePort()
    const url2 = `http://127.0.0.1:${port2}`
    const b = await startDevnetProcess({
      datadir: join(tmp, 'b'),
      port: port2,
      args: ['--no-examples', '--load-state', file],
      children,
      until: 'listening',
      timeoutMs: 150_000,
    })
    try {
      expect(await rpcStateRoot(url2)).toBe(rootA)
      expect((await rpc(url2, 'eth_getBalance', [OTHER, 'latest'])).result).toBe('0x1234')
      expect((await rpc(url2, 'eth_getBalance', [ADDR0, 'latest'])).result).toBe(balance0)
      expect((await rpc(url2, 'eth_getStorageAt', [OTHER, SLOT, 'latest'])).result).toBe(VALUE)
      expect(BigInt((await rpc(url2, 'eth_call', [{ to: OTHER }, 'latest'])).result)).toBe(42n)
      // the loaded state is the head's: the next block builds on it
      expect((await rpc(url2, 'eth_sendTransaction', [{ from: ADDR0, to: OTHER, value: '0x1' }])).error).toBeUndefined()
      expect((await rpc(url2, 'eth_getBalance', [OTHER, 'latest'])).result).toBe('0x1235')
    } finally {
      expect(await stopProcess(b)).toBe(0)
    }
  }, 300_000)

  it('refuses to start with a state file it cannot read or parse', async () => {
    const missing = await runToExit([
      '--no-examples',
      '--port',
      '0',
      '--datadir',
      join(tmp, 'c'),
      '--load-state',
      join(tmp, 'nope.json'),
    ])
    expect(missing.code).not.toBe(0)
    expect(missing.out).toContain('--load-state')
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, 'not json\n')
    const garbage = await runToExit(['--no-examples', '--port', '0', '--datadir', join(tmp, 'd'), '--load-state', bad])
    expect(garbage.code).not.toBe(0)
    expect(garbage.out).toMatch(/cannot load state/)
  }, 240_000)
})
