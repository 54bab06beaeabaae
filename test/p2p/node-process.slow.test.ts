// Two `lattice node` processes peered by the CLI flags: node 2 is given node 1's address with --bootnodes
// (read from node 1's admin_nodeInfo), and a transaction sent to node 1 shows up pending on node 2.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet } from 'ethers'
import { afterAll, describe, expect, it } from 'vitest'
import { ADDR1, CHAIN_ID, KEY0, rpc } from '../helpers/devnet.ts'
import { freePort, stopProcess } from '../helpers/devnet-process.ts'
import { peerIds, waitFor, writeTwoValidatorGenesis } from '../helpers/p2p.ts'

const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname

function lattice(args: string[], children: ChildProcess[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    out += d
  })
  return { child, output: () => out }
}

async function init(datadir: string, genesis: string): Promise<void> {
  const { child, output } = lattice(['init', '--datadir', datadir, '--genesis', genesis], [])
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  if (code !== 0) throw new Error(`lattice init failed:\n${output()}`)
}

describe('lattice node --p2p.port / --bootnodes', () => {
  const root = mkdtempSync(join(tmpdir(), 'lattice-p2p-proc-'))
  const children: ChildProcess[] = []
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) await stopProcess(c, 'SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })

  it('peers two node processes and gossips a transaction between them', async () => {
    const genesis = writeTwoValidatorGenesis(root)
    const [d1, d2] = ['n1', 'n2'].map((n) => join(root, n))
    for (const d of [d1, d2]) await init(d, genesis)
    const [rpc1, rpc2, p2p1] = [await freePort(), await freePort(), await freePort()]
    const url1 = `http://127.0.0.1:${rpc1}`
    const url2 = `http://127.0.0.1:${rpc2}`
    const n1 = lattice(
      ['node', '--datadir', d1, '--port', String(rpc1), '--mining', 'off', '--p2p.port', String(p2p1)],
      children,
    )
    await waitFor(
      'node 1',
      async () => (await rpc(url1, 'admin_nodeInfo').catch(() => ({})))?.result !== undefined,
      120_000,
    )
    const info = (await rpc(url1, 'admin_nodeInfo')).result
    expect(info.ports.listener).toBe(p2p1)
    expect(n1.output()).toContain(`P2P node:        ${info.enode}`)
    lattice(['node', '--datadir', d2, '--port', String(rpc2), '--mining', 'off', '--bootnodes', info.enode], children)
    await waitFor(
      'node 2 peered with node 1',
      async () => (await peerIds(url2).catch((): string[] => [])).includes(info.id),
      120_000,
    )

    const raw = await new Wallet(KEY0).signTransaction({
      type: 2,
      chainId: CHAIN_ID,
      nonce: 0,
      to: ADDR1,
      value: 1n,
      gasLimit: 21_000n,
      maxFeePerGas: 20_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    })
    const hash = (await rpc(url1, 'eth_sendRawTransaction', [raw])).result
    await waitFor(
      'the transaction on node 2',
      async () => (await rpc(url2, 'eth_getTransactionByHash', [hash])).result !== null,
    )
    expect((await rpc(url2, 'eth_getTransactionByHash', [hash])).result.hash).toBe(hash)
    for (const c of children) expect(await stopProcess(c)).toBe(0)
  })
})
