// What the Engine API leaves in the datadir survives a restart: the head, safe and finalized, and side blocks.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { afterAll, describe, expect, it } from 'vitest'
import { initDatadir } from '../../src/chain/datadir.ts'
import type { RunningNode } from '../../src/cli/node.ts'
import { startNode } from '../../src/cli/node.ts'
import { loadOrCreateJwtSecret } from '../../src/engine/jwt.ts'
import { rpc } from '../helpers/devnet.ts'
import { attributes, EngineClient, newPayloadParams, produceBlock, writeGenesis, ZERO_HASH } from '../helpers/engine.ts'

describe('Engine API state across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-engine-restart-'))
  const datadir = join(dir, 'node')
  const jwtSecretPath = join(dir, 'jwt.hex')
  let running: RunningNode | undefined
  afterAll(async () => {
    await running?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function start(): Promise<{ engine: EngineClient; url: string }> {
    running = await startNode({ datadir, port: 0, authrpc: { port: 0, jwtSecretPath } })
    return {
      engine: new EngineClient(running.engine!.url, loadOrCreateJwtSecret(jwtSecretPath).secret),
      url: running.server.url,
    }
  }

  it('keeps head, safe, finalized and a side block', async () => {
    await initDatadir({ datadir, genesisPath: writeGenesis(dir, 'osaka') })
    let { engine, url } = await start()
    const g = running!.node.chain.head
    const genesis = bytesToHex(g.hash())
    const one = await produceBlock(engine, 'osaka', genesis, g.header.timestamp + 12n)
    const two = await produceBlock(engine, 'osaka', one.payload.blockHash, g.header.timestamp + 24n, {
      safe: one.payload.blockHash,
      finalized: genesis,
    })
    // a sibling of block 2, executed but not chosen
    const fcu = await engine.ok('engine_forkchoiceUpdatedV3', [
      { headBlockHash: one.payload.blockHash, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
      attributes(3, g.header.timestamp + 30n, `0x${'ee'.repeat(20)}`),
    ])
    const side = await engine.ok('engine_getPayloadV5', [fcu.payloadId])
    expect((await engine.ok('engine_newPayloadV4', newPayloadParams(4, side))).status).toBe('VALID')
    await engine.ok('engine_forkchoiceUpdatedV3', [
      { headBlockHash: two.payload.blockHash, safeBlockHash: one.payload.blockHash, finalizedBlockHash: genesis },
    ])
    await running!.close()
    running = undefined
    ;({ engine, url } = await start())
    expect((await rpc(url, 'eth_getBlockByNumber', ['latest', false])).result.hash).toBe(two.payload.blockHash)
    expect((await rpc(url, 'eth_getBlockByNumber', ['safe', false])).result.hash).toBe(one.payload.blockHash)
    expect((await rpc(url, 'eth_getBlockByNumber', ['finalized', false])).result.hash).toBe(genesis)
    // the side block is still stored and executed: fcU reorgs to it without a newPayload after the restart
    const r = await engine.ok('engine_forkchoiceUpdatedV3', [
      {
        headBlockHash: side.executionPayload.blockHash,
        safeBlockHash: one.payload.blockHash,
        finalizedBlockHash: genesis,
      },
    ])
    expect(r.payloadStatus.status).toBe('VALID')
    expect((await rpc(url, 'eth_getBlockByNumber', ['0x2', false])).result.hash).toBe(side.executionPayload.blockHash)
  }, 180_000)
})
