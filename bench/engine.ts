/**
 * Engine API slot costs on this machine (run: `node --import tsx bench/engine.ts [slots] [txsPerSlot]`): two
 * in-process `lattice node --authrpc` nodes on an Osaka genesis; node A proposes every slot (fcU with attributes ->
 * getPayloadV5 -> newPayloadV4 -> fcU), node B follows (newPayloadV4 executes the block -> fcU adopts it). Prints the
 * median and worst time of each call, and of a one-block reorg on B (there and back).
 */
import '../src/polyfills.ts'
import { createTx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { createChainCommon } from '../src/chain/genesis.ts'
import { attributes, newPayloadParams, startEngineNode, ZERO_HASH } from '../test/helpers/engine.ts'

const SLOTS = Number(process.argv[2] ?? 30)
const TXS = Number(process.argv[3] ?? 10)
// the devnet mnemonic's account 0 (funded in the genesis)
const KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

const stats = new Map<string, number[]>()
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now()
  const out = await fn()
  const list = stats.get(name) ?? []
  list.push(performance.now() - t)
  stats.set(name, list)
  return out
}

async function main(): Promise<void> {
  const [a, b] = await Promise.all([startEngineNode('osaka'), startEngineNode('osaka')])
  try {
    const common = createChainCommon(a.node.node.chain.spec)
    let head = bytesToHex(a.node.node.chain.head.hash())
    let ts = a.genesisTimestamp
    let nonce = 0n
    for (let slot = 0; slot < SLOTS; slot++) {
      for (let i = 0; i < TXS; i++) {
        const tx = createTx(
          {
            type: 2,
            nonce: nonce++,
            to: `0x${'22'.repeat(20)}`,
            value: 1n,
            gasLimit: 21000n,
            maxFeePerGas: 50_000_000_000n,
            maxPriorityFeePerGas: 1n,
            chainId: 41232n,
          },
          { common },
        ).sign(hexToBytes(KEY0))
        await a.node.node.sendRawTransaction(tx.serialize())
      }
      ts += 12n
      const state = { headBlockHash: head, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH }
      const fcu = await timed('A fcU+attrs', () =>
        a.engine.ok('engine_forkchoiceUpdatedV3', [state, attributes(3, ts)]),
      )
      const got = await timed('A getPayload (build)', () => a.engine.ok('engine_getPayloadV5', [fcu.payloadId]))
      if (got.executionPayload.transactions.length !== TXS)
        throw new Error(`slot ${slot}: ${got.executionPayload.transactions.length} txs`)
      const params = newPayloadParams(4, got)
      await timed('A newPayload (own)', () => a.engine.ok('engine_newPayloadV4', params))
      const vb = await timed('B newPayload (execute)', () => b.engine.ok('engine_newPayloadV4', params))
      if (vb.status !== 'VALID') throw new Error(JSON.stringify(vb))
      head = got.executionPayload.blockHash
      const adopt = [{ ...state, headBlockHash: head }]
      await timed('A fcU (adopt)', () => a.engine.ok('engine_forkchoiceUpdatedV3', adopt))
      await timed('B fcU (adopt)', () => b.engine.ok('engine_forkchoiceUpdatedV3', adopt))
    }
    // a one-block reorg on B: a sibling of the head (empty), there and back
    const parent = bytesToHex(b.node.node.chain.head.header.parentHash)
    const fcu = await a.engine.ok('engine_forkchoiceUpdatedV3', [
      { headBlockHash: parent, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
      attributes(3, ts + 1n, `0x${'33'.repeat(20)}`),
    ])
    const sib = await a.engine.ok('engine_getPayloadV5', [fcu.payloadId])
    await b.engine.ok('engine_newPayloadV4', newPayloadParams(4, sib))
    for (const h of [sib.executionPayload.blockHash, head]) {
      await timed('B fcU (1-block reorg)', () =>
        b.engine.ok('engine_forkchoiceUpdatedV3', [
          { headBlockHash: h, safeBlockHash: ZERO_HASH, finalizedBlockHash: ZERO_HASH },
        ]),
      )
    }
  } finally {
    await Promise.all([a.close(), b.close()])
  }
  console.log(`${SLOTS} slots x ${TXS} transfers, ms (median / worst):`)
  for (const [name, list] of stats) {
    const s = [...list].sort((x, y) => x - y)
    console.log(
      `  ${name.padEnd(24)} ${s[Math.floor(s.length / 2)].toFixed(1).padStart(8)} / ${s[s.length - 1].toFixed(1)}`,
    )
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
