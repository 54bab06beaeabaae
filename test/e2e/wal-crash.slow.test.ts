// kill -9 against the write-back group commit and its write-ahead log (src/chain/wal-commit.ts): automined blocks
// are acknowledged once their RLP is in <datadir>/wal, while their writes wait up to ~200 ms for a group commit.
// (a) a kill in the middle of a stream of pre-signed transfers, (b) a kill right after a block is appended to the
// log and before anything of it reaches LevelDB, with seven acknowledged blocks held unflushed before it. Every
// acknowledged transaction must be in the restarted chain. Restart times are printed.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatadirChain } from '../../src/chain/datadir.ts'
import { WAL_CRASH_ENV, WAL_FLUSH_MS_ENV } from '../../src/chain/test-wal-crash.ts'
import { parseSegment } from '../../src/chain/wal.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { runCli } from '../helpers/cli.ts'
import { ADDR1, CHAIN_ID, KEY1, rpc } from '../helpers/devnet.ts'
import { freePort, startDevnetProcess, stopProcess } from '../helpers/devnet-process.ts'
import { abiTensor, exampleModel, INFERENCE, inferenceAbi } from '../helpers/models.ts'

/** Pre-signed transfers from account #1, nonces 0..n-1 (signed before any node runs, as the bench does). */
function signTransfers(n: number): { raw: string; hash: string }[] {
  const common = createCustomCommon({ chainId: CHAIN_ID }, Mainnet, { hardfork: 'prague' })
  return Array.from({ length: n }, (_, i) => {
    const tx = createFeeMarket1559Tx(
      {
        nonce: BigInt(i),
        maxFeePerGas: 100n * 10n ** 9n,
        maxPriorityFeePerGas: 10n ** 9n,
        gasLimit: 21000n,
        to: createAddressFromString(ADDR1),
        value: 1n,
        chainId: BigInt(CHAIN_ID),
      },
      { common },
    ).sign(hexToBytes(KEY1))
    return { raw: bytesToHex(tx.serialize()), hash: bytesToHex(tx.hash()) }
  })
}

/** Blocks the write-ahead log holds (what a restart will have to look at). */
function loggedBlocks(datadir: string): number {
  const dir = join(datadir, 'wal')
  let n = 0
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    n += parseSegment(readFileSync(join(dir, name))).payloads.length
  }
  return n
}

/** `lattice devnet` with the test-only write-ahead-log switches in its environment. */
async function start(datadir: string, port: number, children: ChildProcess[], env: Record<string, string> = {}) {
  const saved = { ...process.env }
  Object.assign(process.env, env)
  // the child copies the environment when it is spawned, synchronously inside startDevnetProcess
  const started = startDevnetProcess({ datadir, port, args: ['--no-examples'], children, timeoutMs: 150_000 })
  for (const k of Object.keys(env)) {
    if (saved[k] === undefined) delete process.env[k]
    else process.env[k] = saved[k]
  }
  return started
}

/** Every acknowledged transaction has a successful receipt in the restarted chain. */
async function expectAllMined(url: string, hashes: string[]): Promise<void> {
  const receipts = await Promise.all(hashes.map((h) => rpc(url, 'eth_getTransactionReceipt', [h])))
  expect(receipts.map((r) => r.result?.status)).toEqual(hashes.map(() => '0x1'))
  const nonce = await rpc(url, 'eth_getTransactionCount', [createAddressFromString(ADDR1).toString(), 'latest'])
  expect(BigInt(nonce.result)).toBeGreaterThanOrEqual(BigInt(hashes.length))
}

describe('write-ahead log under kill -9', () => {
  const dirs: string[] = []
  const children: ChildProcess[] = []
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('a kill in the middle of a stream of automined transfers loses no acknowledged one', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'lattice-wal-stream-'))
    dirs.push(datadir)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const txs = signTransfers(400)
    const child = await start(datadir, port, children)
    const acknowledged: string[] = []
    const sender = (async () => {
      for (const tx of txs) {
        try {
          const r = await rpc(url, 'eth_sendRawTransaction', [tx.raw])
          if (r.result !== tx.hash) return
          acknowledged.push(r.result)
        } catch {
          return // connection refused: the node is gone
        }
      }
    })()
    const deadline = Date.now() + 120_000
    while (acknowledged.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    await sender
    expect(acknowledged.length).toBeGreaterThanOrEqual(40)
    const logged = loggedBlocks(datadir)

    const t0 = performance.now()
    const again = await start(datadir, port, children)
    const restartMs = performance.now() - t0
    console.log(
      `stream: ${acknowledged.length} acknowledged, ${logged} blocks in the log at the kill, restart ${restartMs.toFixed(0)} ms`,
    )
    await expectAllMined(url, acknowledged)
    // a clean stop commits everything and leaves the log empty
    await stopProcess(again, 'SIGTERM')
    expect(loggedBlocks(datadir)).toBe(0)
  }, 400_000)

  it('a kill between the log append and the flush loses no acknowledged transaction', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'lattice-wal-append-'))
    dirs.push(datadir)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const txs = signTransfers(8)
    // no group commit in this run (10 min interval): the node dies appending the 8th block
    const child = await start(datadir, port, children, {
      [WAL_CRASH_ENV]: 'after-append:8',
      [WAL_FLUSH_MS_ENV]: '600000',
    })
    const head0 = BigInt((await rpc(url, 'eth_blockNumber')).result)
    expect(head0).toBe(0n)
    const acknowledged: string[] = []
    let failed: string | undefined
    for (const tx of txs) {
      try {
        const r = await rpc(url, 'eth_sendRawTransaction', [tx.raw])
        expect(r.result).toBe(tx.hash)
        acknowledged.push(r.result)
      } catch {
        failed = tx.hash
        break
      }
    }
    await new Promise((r) => (child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r(null)))
    expect(child.signalCode).toBe('SIGKILL')
    expect(acknowledged).toEqual(txs.slice(0, 7).map((t) => t.hash))
    expect(failed).toBe(txs[7].hash)
    // nothing of the 8 blocks was flushed: all of them are only in the log
    expect(loggedBlocks(datadir)).toBe(8)

    // the replay itself, in-process: every logged block is imported again and the log is emptied
    const chain = await openDatadirChain(datadir)
    const replay = chain.walReplay
    await chain.close()
    expect(replay).toMatchObject({ replayed: 8, skipped: 0, discarded: 0 })
    expect(loggedBlocks(datadir)).toBe(0)

    const t0 = performance.now()
    const again = await start(datadir, port, children)
    const restartMs = performance.now() - t0
    console.log(
      `after-append: 7 acknowledged + 1 logged unacknowledged; replay of 8 blocks ${replay!.ms.toFixed(0)} ms, node restart ${restartMs.toFixed(0)} ms`,
    )
    await expectAllMined(url, acknowledged)
    // the block logged when the node died was replayed too (it was never acknowledged, but it is a valid block)
    expect((await rpc(url, 'eth_getTransactionReceipt', [txs[7].hash])).result?.status).toBe('0x1')
    expect(BigInt((await rpc(url, 'eth_blockNumber')).result)).toBe(8n)
    await stopProcess(again, 'SIGTERM')
  }, 400_000)

  it('`lattice export` of a datadir a crash left with inference blocks in its log re-executes them with the runtime', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'lattice-wal-export-'))
    dirs.push(datadir)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    // no group commit in this run: every block stays in the log only
    const child = await start(datadir, port, children, { [WAL_FLUSH_MS_ENV]: '600000' })
    const accounts: string[] = (await rpc(url, 'eth_accounts')).result
    const iris = exampleModel('iris')
    const dep = await rpc(url, 'lattice_deployModel', [
      { name: 'crash-iris', model: Buffer.from(iris.bytes).toString('base64'), from: accounts[0] },
    ])
    expect(dep.error).toBeUndefined()
    const x = tensorFromValues('x', DType.float32, [1, 4], [5.1, 3.5, 1.4, 0.2])
    const data = inferenceAbi.encodeFunctionData('infer', [dep.result.modelId, [abiTensor(x)]])
    const sent = await rpc(url, 'eth_sendTransaction', [{ from: accounts[1], to: INFERENCE, data }])
    expect(sent.error).toBeUndefined()
    let receipt: { status: string; blockNumber: string } | undefined
    for (let i = 0; i < 300 && !receipt; i++) {
      receipt = (await rpc(url, 'eth_getTransactionReceipt', [sent.result])).result ?? undefined
      if (!receipt) await new Promise((r) => setTimeout(r, 100))
    }
    expect(receipt?.status).toBe('0x1')
    const head = Number(receipt?.blockNumber)
    expect(loggedBlocks(datadir)).toBe(head)
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))

    // before: the replay ran the inference without the runtime ("invalid receiptTrie ... could not be replayed")
    const file = join(datadir, 'export.rlp')
    const r = await runCli(['export', file, '--datadir', datadir])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain(`Exported ${head} blocks`)
  }, 400_000)
})
