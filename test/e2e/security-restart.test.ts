// Issue 11 item 1, as filed: one anonymous eth_call must not brick the datadir. Before the fix the call below
// left an EVM checkpoint open on the chain's VM; nothing was flushed afterwards, historical balances were "not
// available" and the restart failed with "State trie does not contain state root".
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixedCode, tensorFromValues } from '../../src/inference/tensor.ts'
import { ADDR0, ADDR1, rpc } from '../helpers/devnet.ts'
import { freePort, startDevnetProcess, stopProcess } from '../helpers/devnet-process.ts'
import { abiTensor, INFERENCE, inferenceAbi } from '../helpers/models.ts'

const INT256_MAX = (1n << 255n) - 1n

describe('item 1: the NaN eth_call, a transfer, a clean stop and a restart on the same datadir', () => {
  const children: ChildProcess[] = []
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-brick-'))
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    rmSync(datadir, { recursive: true, force: true })
  })

  it('restarts at the same head and state root, and every block still answers eth_getBalance', async () => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const first = await startDevnetProcess({ datadir, port, children, until: 'listening' })
    const examples = JSON.parse(readFileSync(join(datadir, 'examples.json'), 'utf8'))
    const iris = examples.models.find((m: { name: string }) => m.name === 'iris').modelId
    const x = tensorFromValues('x', fixedCode(0), [1, 4], [INT256_MAX, INT256_MAX, INT256_MAX, INT256_MAX])
    expect(x.dtype).toBe(128)
    const data = inferenceAbi.encodeFunctionData('infer', [iris, [abiTensor(x)]])

    // anonymous: no `from`
    const call = await rpc(url, 'eth_call', [{ to: INFERENCE, data }])
    expect(call.error.code).toBe(3)
    expect(call.error.message).toMatch(/tensor "probabilities" value NaN has no fixed-point form/)

    const sent = await rpc(url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x2a' }])
    expect(sent.error).toBeUndefined()
    const head = (await rpc(url, 'eth_getBlockByNumber', ['latest', false])).result
    const balance = (await rpc(url, 'eth_getBalance', [ADDR1, 'latest'])).result
    expect(await stopProcess(first)).toBe(0)

    await startDevnetProcess({ datadir, port, children, until: 'listening' })
    const again = (await rpc(url, 'eth_getBlockByNumber', ['latest', false])).result
    expect(again.number).toBe(head.number)
    expect(again.hash).toBe(head.hash)
    expect(again.stateRoot).toBe(head.stateRoot)
    expect((await rpc(url, 'eth_getBalance', [ADDR1, 'latest'])).result).toBe(balance)
    for (let n = 0; n <= Number(head.number); n++) {
      const r = await rpc(url, 'eth_getBalance', [ADDR1, `0x${n.toString(16)}`])
      expect(r.error, `eth_getBalance at block ${n}`).toBeUndefined()
      expect(r.result).toMatch(/^0x/)
    }
    // and the chain moves on
    expect((await rpc(url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])).error).toBeUndefined()
    expect(await stopProcess(children.at(-1)!)).toBe(0)
  }, 300_000)
})
