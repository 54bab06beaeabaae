// `lattice devnet` opens its RPC port only once the example deployments (sent from dev account 0) are mined: a
// client that sends from account 0 as soon as the port answers never races them, and "Listening" is printed
// when the port serves (issue 18).
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { examplesFile } from '../../src/cli/devnet-examples.ts'
import { ADDR0, ADDR1, rpc } from '../helpers/devnet.ts'
import { freePort, stopProcess } from '../helpers/devnet-process.ts'

const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'lattice-devnet-listen-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(tmp, { recursive: true, force: true })
})

describe('lattice devnet with its example deployments', () => {
  it('answers no RPC before the examples are mined; a client racing account 0 gets the next nonce', async () => {
    const port = await freePort()
    const datadir = join(tmp, 'dd')
    const url = `http://127.0.0.1:${port}`
    const child = spawn(process.execPath, [BIN, 'devnet', '--port', String(port), '--datadir', datadir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    try {
      // race: send from account 0 as soon as anything answers on the port
      let hash: string | undefined
      let examplesAtFirstAnswer = false
      const deadline = Date.now() + 170_000
      while (!hash && Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`devnet exited:\n${output}`)
        try {
          const r = await rpc(url, 'eth_sendTransaction', [{ from: ADDR0, to: ADDR1, value: '0x1' }])
          examplesAtFirstAnswer = existsSync(examplesFile(datadir))
          expect(r.error, JSON.stringify(r.error)).toBeUndefined()
          hash = r.result
        } catch (err) {
          if ((err as Error).name === 'AssertionError') throw err
          await new Promise((r) => setTimeout(r, 20)) // not listening yet
        }
      }
      expect(hash, output).toBeDefined()
      // the examples were recorded (deployed and mined) before the port first answered
      expect(examplesAtFirstAnswer).toBe(true)
      const tx = (await rpc(url, 'eth_getTransactionByHash', [hash])).result
      // 3 model registrations and 3 example contracts went first, from account 0
      expect(Number(tx.nonce)).toBe(6)
      const receipt = (await rpc(url, 'eth_getTransactionReceipt', [hash])).result
      expect(receipt.status).toBe('0x1')
      for (let i = 0; i < 100 && !output.includes('Listening on'); i++) await new Promise((r) => setTimeout(r, 50))
      expect(output).toContain(`Listening on ${url}`)
      expect(output).toMatch(/Example models \(deployed in \d+ ms\)/)
      expect(output).not.toContain('not deployed')
      expect(await stopProcess(child)).toBe(0)
    } finally {
      // a failed check above must show its own message, not the exit code of a devnet stopped mid-deployment
      if (child.exitCode === null) await stopProcess(child)
    }
  }, 180_000)
})
