import type { ChildProcess } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readTxPoolJournal, TXPOOL_JOURNAL_FILE } from '../../src/chain/txpool-journal.ts'
import { ADDR0, ADDR1, rpc } from '../helpers/devnet.ts'
import { freePort, startDevnetProcess, stopProcess } from '../helpers/devnet-process.ts'

/** `lattice devnet` mining once an hour (so transactions stay pending), as a child process. */
const startPending = (datadir: string, port: number, children: ChildProcess[]) =>
  startDevnetProcess({ datadir, port, children, args: ['--no-examples', '--block-time', '3600'], timeoutMs: 60_000 })

/** Hashes of every pooled transaction, pending and queued. */
async function pooled(url: string): Promise<string[]> {
  const { result } = await rpc(url, 'txpool_content')
  const hashes: string[] = []
  for (const part of [result.pending, result.queued]) {
    for (const byNonce of Object.values(part as Record<string, Record<string, { hash: string }>>)) {
      for (const tx of Object.values(byNonce)) hashes.push(tx.hash)
    }
  }
  return hashes.sort()
}

describe('the transaction pool survives a restart (transactions.rlp)', () => {
  const dirs: string[] = []
  const children: ChildProcess[] = []
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('reads back whole entries and cuts a torn tail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lattice-journal-'))
    dirs.push(dir)
    const path = join(dir, TXPOOL_JOURNAL_FILE)
    expect(readTxPoolJournal(path)).toEqual({ txs: [], unreadable: 0 })
    // two RLP strings, then the first bytes of a third
    writeFileSync(path, Uint8Array.from([0x83, 1, 2, 3, 0x82, 4, 5]))
    appendFileSync(path, Uint8Array.from([0x85, 9]))
    const back = readTxPoolJournal(path)
    expect(back.txs.map((t) => [...t])).toEqual([
      [1, 2, 3],
      [4, 5],
    ])
    expect(back.unreadable).toBe(1)
  })

  it('keeps pending and queued transactions across a clean stop and a kill -9, drops mined ones', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'lattice-journal-'))
    dirs.push(datadir)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const send = async (tx: Record<string, string>) => {
      const r = await rpc(url, 'eth_sendTransaction', [{ gas: '0x5208', ...tx }])
      expect(r.error).toBeUndefined()
      return r.result as string
    }

    let child = await startPending(datadir, port, children)
    const a = await send({ from: ADDR0, to: ADDR1, value: '0x1' })
    const b = await send({ from: ADDR0, to: ADDR1, value: '0x2' })
    const queued = await send({ from: ADDR1, to: ADDR0, value: '0x3', nonce: '0x5' })
    expect(await pooled(url)).toEqual([a, b, queued].sort())

    await stopProcess(child, 'SIGTERM')
    child = await startPending(datadir, port, children)
    expect(await pooled(url)).toEqual([a, b, queued].sort())
    expect((await rpc(url, 'eth_getTransactionByHash', [a])).result?.blockNumber).toBeNull()

    // appended before the submission is answered: a kill -9 right after keeps it
    const c = await send({ from: ADDR0, to: ADDR1, value: '0x4' })
    await stopProcess(child, 'SIGKILL')
    child = await startPending(datadir, port, children)
    expect(await pooled(url)).toEqual([a, b, c, queued].sort())

    // mined transactions leave the journal; the queued one stays
    expect((await rpc(url, 'evm_mine')).result).toBe('0x0')
    for (const h of [a, b, c]) expect((await rpc(url, 'eth_getTransactionReceipt', [h])).result?.status).toBe('0x1')
    expect(await pooled(url)).toEqual([queued])
    await stopProcess(child, 'SIGKILL')
    // the journal may still list the mined ones (rewritten a moment after a removal); they are dropped at start
    child = await startPending(datadir, port, children)
    expect(await pooled(url)).toEqual([queued])
    await stopProcess(child, 'SIGTERM')
    expect(readTxPoolJournal(join(datadir, TXPOOL_JOURNAL_FILE)).txs).toHaveLength(1)
    expect(readFileSync(join(datadir, TXPOOL_JOURNAL_FILE)).length).toBeGreaterThan(0)
  }, 180_000)
})
