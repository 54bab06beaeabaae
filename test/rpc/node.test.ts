import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initDatadir } from '../../src/chain/datadir.ts'
import { createChainCommon, DEVNET_GENESIS_PATH, loadChainSpec } from '../../src/chain/genesis.ts'
import type { RunningNode } from '../../src/cli/node.ts'
import { startNode } from '../../src/cli/node.ts'
import { ADDR1, KEY0, rpc } from '../helpers/devnet.ts'

describe('lattice node (validator mode)', () => {
  let tmp: string
  let node: RunningNode
  let url: string

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lattice-node-'))
    await initDatadir({ datadir: tmp, genesisPath: fileURLToPath(DEVNET_GENESIS_PATH) })
    node = await startNode({ datadir: tmp, port: 0 })
    url = node.server.url
  })

  afterAll(async () => {
    await node?.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('has no dev keys: no accounts, no eth_sendTransaction, no evm_*', async () => {
    expect((await rpc(url, 'eth_accounts')).result).toEqual([])
    expect((await rpc(url, 'eth_sendTransaction', [{ from: ADDR1, to: ADDR1 }])).error.code).toBe(-32601)
    expect((await rpc(url, 'evm_mine')).error.code).toBe(-32601)
  })

  it('mines a signed raw transaction (single-node automine) and serves debug_/eth_ additions', async () => {
    const common = createChainCommon(loadChainSpec())
    const tx = createTx(
      {
        type: 2,
        nonce: 0n,
        to: ADDR1,
        value: 5n,
        gasLimit: 21000n,
        maxFeePerGas: 10_000_000_000n,
        maxPriorityFeePerGas: 1n,
        chainId: 41232n,
      },
      { common },
    ).sign(hexToBytes(KEY0))
    const sent = await rpc(url, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])
    expect(sent.result).toBe(bytesToHex(tx.hash()))
    expect((await rpc(url, 'eth_blockNumber')).result).toBe('0x1')
    const raw = await rpc(url, 'debug_getRawTransaction', [sent.result])
    expect(raw.result).toBe(bytesToHex(tx.serialize()))
    const trace = await rpc(url, 'debug_traceTransaction', [sent.result, { tracer: 'callTracer' }])
    expect(trace.result).toMatchObject({ type: 'CALL', to: ADDR1.toLowerCase(), value: '0x5', gasUsed: '0x5208' })
    const proof = await rpc(url, 'eth_getProof', [ADDR1, [], 'latest'])
    expect(proof.result.balance).toBe('0x21e19e0c9bab2400005')
    const cfg = await rpc(url, 'eth_config')
    expect(cfg.result.current.chainId).toBe('0xa110')
    expect(cfg.result.current.blobSchedule).toEqual({ target: 14, max: 21, baseFeeUpdateFraction: 11684671 })
  })
})
