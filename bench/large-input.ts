/**
 * What an eth_call of a large input (a tensor: ppocr-det's is 111 KB) pays before the EVM runs it (issue 17), each
 * against the previous code in the same run, alternating rounds; process CPU per op:
 * - pricing the calldata in @ethereumjs/tx (patches/ethereumjs-tx-10.1.3-calldata-count.patch): a fresh frozen call
 *   transaction (Lattice builds one per eth_call) priced as runTx prices it, `getIntrinsicGas` reading `getDataGas`,
 *   then `getCalldataFloorGas` reading the EIP-7623 floor tokens; previous = the earlier patch's two byte loops;
 * - the JSON-RPC nesting scan of the request body (src/rpc/framing.ts `nestingExceeds`); previous = the byte-by-byte
 *   scan it replaced.
 *
 *   node --import tsx bench/large-input.ts [--bytes 111000] [--rounds 6] [--ops 300]
 */
import { parseArgs } from 'node:util'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { countCalldataFloorTokens, createFeeMarket1559Tx, type FeeMarket1559Tx } from '@ethereumjs/tx'
import { nestingExceeds } from '../src/rpc/framing.ts'
import { byteScanNestingExceeds } from '../test/helpers/byte-scan.ts'
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
/** CPU ms per op of `before` and `after`, alternating which goes first each round. */
function ab<T>(label: string, before: (x: T) => unknown, after: (x: T) => unknown, input: () => T): void {
  const out = { before: [] as number[], after: [] as number[] }
  const warm = input()
  for (let i = 0; i < 20; i++) {
    before(warm)
    after(warm)
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of r % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
      const f = side === 'before' ? before : after
      const inputs = Array.from({ length: OPS }, input)
      const c0 = cpu()
      for (const x of inputs) f(x)
      out[side].push((cpu() - c0) / OPS)
    }
  }
  const fmt = (v: number[]) => `${median(v).toFixed(4)} ms (${Math.min(...v).toFixed(4)}–${Math.max(...v).toFixed(4)})`
  const ratios = out.after.map((a, i) => a / out.before[i])
  console.log(`${label}`)
  console.log(`  previous: ${fmt(out.before)}`)
  console.log(`  now:      ${fmt(out.after)}`)
  console.log(
    `  now/previous: per-round median ${median(ratios).toFixed(3)}x (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); of medians ${(median(out.after) / median(out.before)).toFixed(3)}x`,
  )
}

if (previous(make()) !== patched(make())) throw new Error('the two calldata counts disagree')
console.log(`${BYTES} bytes of calldata, ${ROUNDS} alternating rounds of ${OPS} ops, process CPU per op`)
ab(
  'pricing the calldata of a fresh frozen call transaction (getDataGas + EIP-7623 floor tokens)',
  previous,
  patched,
  make,
)
const body = Buffer.from(
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'eth_call',
    params: [{ to: `0x${'11'.repeat(20)}`, data: `0x${Buffer.from(data).toString('hex')}` }, 'latest'],
  }),
)
if (byteScanNestingExceeds(body, 128) !== nestingExceeds(body, 128)) throw new Error('the two nesting scans disagree')
ab(
  `the JSON-RPC nesting scan of the eth_call body (${body.length} bytes)`,
  (b: Buffer) => byteScanNestingExceeds(b, 128),
  (b: Buffer) => nestingExceeds(b, 128),
  () => body,
)
