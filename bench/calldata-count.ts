/**
 * What an eth_call of a large input pays in @ethereumjs/tx to price its calldata (issue 17,
 * patches/ethereumjs-tx-10.1.3-calldata-count.patch). Per op, a fresh frozen call transaction (Lattice builds one
 * per eth_call) is priced as runTx prices it: `getIntrinsicGas` reads `getDataGas`, then `getCalldataFloorGas` reads the
 * EIP-7623 floor tokens, once each. Baseline in the same run, alternating: the previous patch's two byte loops (one
 * for the data gas, one for the floor tokens), reproduced here.
 *
 *   node --import tsx bench/calldata-count.ts [--bytes 111000] [--rounds 6] [--ops 300]
 */
import { parseArgs } from 'node:util'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { countCalldataFloorTokens, createFeeMarket1559Tx, type FeeMarket1559Tx } from '@ethereumjs/tx'
import { median } from './stats.ts'

const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: '111000' },
    rounds: { type: 'string', default: '6' },
    ops: { type: 'string', default: '300' },
  },
})
const BYTES = Number(values.bytes)
const ROUNDS = Number(values.rounds)
const OPS = Number(values.ops)

const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
// float32 tensor bytes: about half zero, in no pattern a branch predictor learns
const data = new Uint8Array(BYTES)
let x = 7
for (let i = 0; i < BYTES; i++) {
  x = (x * 1103515245 + 12345) >>> 0
  data[i] = x >>> 24 < 128 ? 0 : x >>> 24
}
const make = () => createFeeMarket1559Tx({ to: `0x${'11'.repeat(20)}`, data, gasLimit: 30_000_000n }, { common })

/** The previous patch: the data gas counted byte by byte, then the floor tokens byte by byte. */
function previous(tx: FeeMarket1559Tx): bigint {
  let zeros = 0
  for (let i = 0; i < tx.data.length; i++) if (tx.data[i] === 0) zeros++
  const gas = BigInt(zeros) * 4n + BigInt(tx.data.length - zeros) * 16n
  let n = 0
  for (let i = 0; i < tx.data.length; i++) n += tx.data[i] === 0 ? 1 : 4
  return gas + BigInt(n)
}
function patched(tx: FeeMarket1559Tx): bigint {
  return tx.getDataGas() + countCalldataFloorTokens(tx)
}

const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const txs = Array.from({ length: OPS }, make)
if (previous(make()) !== patched(make())) throw new Error('the two disagree')
const results: Record<'previous' | 'patched', number[]> = { previous: [], patched: [] }
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r % 2 ? (['patched', 'previous'] as const) : (['previous', 'patched'] as const)) {
    const f = name === 'previous' ? previous : patched
    const fresh = Array.from({ length: OPS }, make)
    for (const tx of txs.slice(0, 20)) f(tx)
    const c0 = cpu()
    for (const tx of fresh) f(tx)
    results[name].push((cpu() - c0) / OPS)
  }
}
const fmt = (v: number[]) => `${median(v).toFixed(3)} ms (${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)})`
console.log(`${BYTES} bytes of calldata, ${ROUNDS} alternating rounds of ${OPS} fresh frozen transactions, CPU per op`)
console.log(`previous patch (two byte loops): ${fmt(results.previous)}`)
console.log(`this patch (one count, 4 bytes at a time): ${fmt(results.patched)}`)
const ratios = results.patched.map((p, i) => p / results.previous[i])
console.log(
  `ratio patched/previous: per-round median ${median(ratios).toFixed(3)}x (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); of medians ${(median(results.patched) / median(results.previous)).toFixed(3)}x`,
)
