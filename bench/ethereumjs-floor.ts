/**
 * The floor ethereumjs itself sets for an automined transfer, with anvil as the baseline in the same run. Each
 * variant takes N pre-signed transfers, one block each, in a fresh process (a fresh V8, as a fresh node gets):
 *
 *   ejs-map    bare ethereumjs in-process: the devnet's genesis and Common (genesis/devnet.json, Osaka), createVM,
 *              buildBlock, addTransaction, build, blockchain.putBlock; trie and blockchain on a MapDB. No Lattice
 *              code, no HTTP, no receipts stored. Trie cache and state caches sized as the devnet's (ethereumjs
 *              options), and the same hashing/recovery libraries through Common's `customCrypto` (native
 *              secp256k1, hash-wasm keccak; `--crypto js` for ethereumjs' defaults).
 *   ejs-level  the same with the trie and blockchain in classic-level (LevelDB; a bare adapter, no cache).
 *   lattice    Lattice's devnet in-process (startDevnet: chain, miner, pool, attestor, registry index, WAL and
 *              group commit), the transfers through `node.sendRawTransaction`, no HTTP.
 *   anvil      anvil 1.7.1 over HTTP (`@foundry-rs/anvil-linux-amd64`), sent back to back, as bench/devnet.ts does.
 *   devnet     `lattice devnet` over HTTP, the same way (after its example deployments).
 *
 * Rounds alternate the order (forward, then reverse). Wall and process CPU (utime + stime: the in-process
 * variants read their own, the HTTP ones the node's /proc stat) per transfer, medians over the rounds with
 * the spread, and the ratios ejs/anvil, lattice/ejs and devnet/anvil (per-round medians and ratios of medians).
 *
 *   node --import tsx bench/ethereumjs-floor.ts [--transfers 300] [--rounds 3] [--port-base 29400]
 *     [--only ejs-map,ejs-level,lattice,anvil,devnet] [--from dist|src] [--crypto native|js] [--ab header-memo|commit-cache]
 *
 * `--ab <patch>[,<patch>]` (of {@link UNPATCH}): each in-process variant also runs with those patches of patches/
 * undone in its process (`<variant>-without-<patch>`), in the same rounds, and the ratios with/without are printed.
 */
import '../src/polyfills.ts'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { Block } from '@ethereumjs/block'
import { createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import { createBlockchain } from '@ethereumjs/blockchain'
import { createCustomCommon, Mainnet } from '@ethereumjs/common'
import { CheckpointDB } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import type { BatchDBOp, DB, DBObject, EncodingOpts } from '@ethereumjs/util'
import {
  bytesToHex,
  createAddressFromString,
  createZeroAddress,
  hexToBytes,
  unprefixedHexToBytes,
} from '@ethereumjs/util'
import { buildBlock } from '@ethereumjs/vm'
import { ClassicLevel } from 'classic-level'
import { bareVm } from './ejs-vm.ts'
import { compileDist, processCpuMs, rpc, startHttpTarget, stopChild, until } from './helpers.ts'
import { fmtMs, median, spread } from './stats.ts'

const VARIANTS = ['ejs-map', 'ejs-level', 'lattice', 'anvil', 'devnet'] as const
/** A variant, or an in-process one with a patch undone: `<variant>-without-<patch>` (`--ab`). */
type Variant = string

const { values } = parseArgs({
  options: {
    transfers: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    'port-base': { type: 'string', default: '29400' },
    only: { type: 'string', default: VARIANTS.join(',') },
    from: { type: 'string', default: 'dist' },
    crypto: { type: 'string', default: 'native' },
    ab: { type: 'string' },
    worker: { type: 'string' },
    unpatch: { type: 'string' },
  },
})
const N = Number(values.transfers)
const ROUNDS = Number(values.rounds)
const PORT_BASE = Number(values['port-base'])
const ROOT = fileURLToPath(new URL('..', import.meta.url))
// anvil's (and the devnet's) test mnemonic, account #2: funded in both geneses
const TRANSFER_KEY = hexToBytes('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a')
const TO = createAddressFromString('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
const LATTICE_CHAIN_ID = 41232n
const ANVIL_CHAIN_ID = 31337n
const _require = createRequire(import.meta.url)

/** One variant's run: ms per transfer over all N, and over the second half (V8 warm). */
interface Result {
  wall: number
  cpu: number
  wallWarm: number
  cpuWarm: number
}

function signTransfers(chainId: bigint): Uint8Array[] {
  const common = createCustomCommon({ chainId: Number(chainId) }, Mainnet, { hardfork: 'prague' })
  return Array.from({ length: N }, (_, i) =>
    createFeeMarket1559Tx(
      {
        nonce: BigInt(i),
        maxFeePerGas: 100n * 10n ** 9n,
        maxPriorityFeePerGas: 10n ** 9n,
        gasLimit: 21000n,
        to: TO,
        value: 1n,
        chainId,
      },
      { common },
    )
      .sign(TRANSFER_KEY)
      .serialize(),
  )
}

/** Time `n` steps: wall and CPU per step, overall and over the second half. `cpu` returns ms used so far. */
async function timeSteps(n: number, cpu: () => number, step: (i: number) => Promise<void>): Promise<Result> {
  const t0 = performance.now()
  const c0 = cpu()
  let tHalf = 0
  let cHalf = 0
  const half = Math.floor(n / 2)
  for (let i = 0; i < n; i++) {
    if (i === half) {
      tHalf = performance.now()
      cHalf = cpu()
    }
    await step(i)
  }
  const t1 = performance.now()
  const c1 = cpu()
  return {
    wall: (t1 - t0) / n,
    cpu: (c1 - c0) / n,
    wallWarm: (t1 - tHalf) / (n - half),
    cpuWarm: (c1 - cHalf) / (n - half),
  }
}

const selfCpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

// ------------------------------------------------------------------------------------------- patches undone

/**
 * Runtime undo of a patch of patches/ in this process, for A/B runs in one bench run without touching the shared
 * node_modules: each restores the published function.
 */
const UNPATCH: Record<string, () => Promise<void>> = {
  // patches/ethereumjs-blockchain-10.1.3-header-memo.patch: DBManager.getHeader as published
  'header-memo': async () => {
    const proto = Object.getPrototypeOf((await createBlockchain()).dbManager)
    proto.getHeader = async function (this: any, blockHash: Uint8Array, blockNumber: bigint) {
      // DBTarget.Header (not exported)
      const encoded = await this.get(7, { blockHash, blockNumber })
      return createBlockHeaderFromBytesArray(RLP.decode(encoded) as Uint8Array[], {
        common: this.common,
        setHardfork: true,
      })
    }
  },
  // patches/ethereumjs-mpt-10.1.3-commit-cache.patch: CheckpointDB.commit as published
  'commit-cache': async () => {
    CheckpointDB.prototype.commit = async function (this: any) {
      const { keyValueMap } = this.checkpoints.pop()
      if (!this.hasCheckpoints()) {
        const batchOp: any[] = []
        for (const [key, value] of keyValueMap.entries()) {
          if (value === undefined) batchOp.push({ type: 'del', key: unprefixedHexToBytes(key) })
          else batchOp.push({ type: 'put', key: unprefixedHexToBytes(key), value })
        }
        await this.batch(batchOp)
      } else {
        const current = this.checkpoints[this.checkpoints.length - 1].keyValueMap
        for (const [key, value] of keyValueMap.entries()) current.set(key, value)
      }
    }
  },
}

// ------------------------------------------------------------------------------------------- bare ethereumjs

type LevelKey = Uint8Array | string
type LevelValue = Uint8Array | string | DBObject

/** ethereumjs' `DB` over a classic-level sublevel, nothing in front of it (what ethereumjs' client does). */
class LevelAdapter implements DB<LevelKey, LevelValue> {
  constructor(readonly sub: ReturnType<ClassicLevel<string, string>['sublevel']>) {}
  private enc(opts?: EncodingOpts) {
    const m = (e: string | undefined) => (e === undefined || e === 'view' ? 'view' : e === 'json' ? 'json' : 'utf8')
    return { keyEncoding: m(opts?.keyEncoding), valueEncoding: m(opts?.valueEncoding) } as any
  }
  async get(key: LevelKey, opts?: EncodingOpts): Promise<LevelValue | undefined> {
    return ((await this.sub.get(key as any, this.enc(opts))) as LevelValue | undefined) ?? undefined
  }
  async put(key: LevelKey, val: LevelValue, opts?: EncodingOpts) {
    await this.sub.put(key as any, val as any, this.enc(opts))
  }
  async del(key: LevelKey, opts?: EncodingOpts) {
    await this.sub.del(key as any, this.enc(opts))
  }
  async batch(ops: BatchDBOp<LevelKey, LevelValue>[]) {
    await this.sub.batch(
      ops.map((op) =>
        op.type === 'put'
          ? { type: 'put', key: op.key, value: op.value, ...this.enc(op.opts) }
          : { type: 'del', key: op.key, ...this.enc(op.opts) },
      ) as any,
    )
  }
  shallowCopy(): DB<LevelKey, LevelValue> {
    return this
  }
  async open() {}
}

async function runEthereumjs(level: boolean): Promise<Result> {
  let dir: string | undefined
  let db: ClassicLevel<string, string> | undefined
  let stateDb: DB<any, any> | undefined
  let blockDb: DB<any, any> | undefined
  if (level) {
    dir = mkdtempSync(join(tmpdir(), 'ejs-floor-'))
    db = new ClassicLevel<string, string>(dir)
    await db.open()
    stateDb = new LevelAdapter(db.sublevel('s', { keyEncoding: 'view', valueEncoding: 'view' } as any) as any)
    blockDb = new LevelAdapter(db.sublevel('b', { keyEncoding: 'view', valueEncoding: 'view' } as any) as any)
  }
  try {
    const { vm, blockchain } = await bareVm({
      crypto: values.crypto as 'native' | 'js',
      stateDb,
      blockDb,
    })
    const raws = signTransfers(LATTICE_CHAIN_ID)
    let head: Block = blockchain.genesisBlock
    const coinbase = createZeroAddress()
    return await timeSteps(N, selfCpu, async (i) => {
      const tx = createTxFromRLP(raws[i], { common: vm.common })
      const parent = head
      const number = parent.header.number + 1n
      const timestamp = parent.header.timestamp + 1n
      vm.common.setHardforkBy({ blockNumber: number, timestamp })
      const builder = await buildBlock(vm, {
        parentBlock: parent,
        headerData: {
          number,
          timestamp,
          coinbase,
          gasLimit: parent.header.gasLimit,
          parentBeaconBlockRoot: new Uint8Array(32),
        },
        withdrawals: [],
        blockOpts: { putBlockIntoBlockchain: false, calcDifficultyFromHeader: parent.header },
      })
      await builder.addTransaction(tx)
      const { block } = await builder.build()
      await blockchain.putBlock(block)
      head = block
    })
  } finally {
    await db?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}

// ------------------------------------------------------------------------------------------- lattice in-process

async function runLattice(): Promise<Result> {
  const { startDevnet } = await import('../src/cli/devnet.ts')
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-floor-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  try {
    const raws = signTransfers(LATTICE_CHAIN_ID)
    return await timeSteps(N, selfCpu, async (i) => {
      await devnet.node.sendRawTransaction(raws[i])
    })
  } finally {
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
}

// ------------------------------------------------------------------------------------------- over HTTP

let latticeEntry: string | undefined
/** Compiled JavaScript for the devnet (as bench/devnet.ts: `lattice` after `npm run build`), or bin/lattice.js. */
function devnetEntry(): string {
  if (latticeEntry) return latticeEntry
  latticeEntry = join(ROOT, 'bin', 'lattice.js')
  if (values.from === 'src') return latticeEntry
  latticeEntry = compileDist(ROOT, PORT_BASE)
  return latticeEntry
}

async function runHttp(name: 'anvil' | 'devnet', port: number): Promise<Result> {
  const { url, child, datadir } = await startHttpTarget(name, port, devnetEntry)
  try {
    const raws = signTransfers(name === 'anvil' ? ANVIL_CHAIN_ID : LATTICE_CHAIN_ID).map(bytesToHex)
    // back to back; a half's clock stops once its last transfer has a receipt
    let last = ''
    const half = Math.floor(N / 2)
    const cpu = () => processCpuMs(child.pid as number)
    return await timeSteps(N, cpu, async (i) => {
      last = await rpc(url, 'eth_sendRawTransaction', [raws[i]])
      if (i === half - 1 || i === N - 1)
        await until(`receipt ${last}`, () => rpc(url, 'eth_getTransactionReceipt', [last]))
    })
  } finally {
    await stopChild(child, datadir)
  }
}

// ------------------------------------------------------------------------------------------- orchestration

/** Run one in-process variant in a fresh child process (its own V8 and heap); the child prints its Result. */
function inChild(variant: Variant): Result {
  const [base, without] = variant.split('-without-')
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--worker', base, '--transfers', String(N)]
  args.push('--crypto', String(values.crypto))
  if (without) args.push('--unpatch', without)
  const out = execFileSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = out.trim().split('\n').at(-1) ?? ''
  return JSON.parse(line) as Result
}

async function runVariant(v: Variant, round: number): Promise<Result> {
  if (v === 'anvil') return runHttp('anvil', PORT_BASE + 2 * round)
  if (v === 'devnet') return runHttp('devnet', PORT_BASE + 2 * round + 1)
  return inChild(v)
}

async function main(): Promise<void> {
  if (values.worker) {
    const w = values.worker as Variant
    for (const name of values.unpatch?.split(',') ?? []) await UNPATCH[name]()
    const r = w === 'lattice' ? await runLattice() : await runEthereumjs(w === 'ejs-level')
    process.stdout.write(`${JSON.stringify(r)}\n`)
    return
  }
  const chosen = values.only.split(',').map((s) => s.trim()) as Variant[]
  for (const v of chosen)
    if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`--only: unknown variant ${v}`)
  const ab = values.ab
  if (ab !== undefined) {
    for (const name of ab.split(','))
      if (!UNPATCH[name]) throw new Error(`--ab: one or more (a,b) of ${Object.keys(UNPATCH).join(', ')}`)
    for (const v of [...chosen])
      if (v !== 'anvil' && v !== 'devnet') chosen.splice(chosen.indexOf(v) + 1, 0, `${v}-without-${ab}`)
  }
  if (chosen.includes('devnet')) devnetEntry()
  const runs = new Map<Variant, Result[]>(chosen.map((v) => [v, []]))
  const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  const start = new Date().toISOString()
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? chosen : [...chosen].reverse()
    for (const v of order) {
      const r = await runVariant(v, round)
      runs.get(v)!.push(r)
      console.error(
        `round ${round + 1} ${v}: ${fmtMs(r.wall)} ms wall, ${fmtMs(r.cpu)} ms CPU per transfer (warm half ${fmtMs(r.wallWarm)} / ${fmtMs(r.cpuWarm)})`,
      )
    }
  }
  const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  console.log(
    `\nnode ${process.version}, ${start} → ${new Date().toISOString()}, load ${load0} → ${load1}; ${N} transfers per run, ` +
      `${ROUNDS} rounds, crypto ${values.crypto}, devnet from ${values.from}`,
  )
  console.log('\n| variant | wall ms/transfer | CPU ms/transfer | warm half wall | warm half CPU |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const [v, rs] of runs) {
    const col = (k: keyof Result) => `${fmtMs(median(rs.map((r) => r[k])))} (${spread(rs.map((r) => r[k]))})`
    console.log(`| ${v} | ${col('wall')} | ${col('cpu')} | ${col('wallWarm')} | ${col('cpuWarm')} |`)
  }
  const pairs: [Variant, Variant][] = [
    ['ejs-map', 'anvil'],
    ['ejs-level', 'anvil'],
    ['lattice', 'ejs-map'],
    ['lattice', 'ejs-level'],
    ['devnet', 'anvil'],
    ['devnet', 'lattice'],
    ...chosen.filter((v) => v.includes('-without-')).map((v) => [v.split('-without-')[0], v] as [Variant, Variant]),
  ]
  console.log(
    '\n| ratio | wall: per-round median (spread) | wall: of medians | CPU: per-round median (spread) | CPU: of medians |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const [a, b] of pairs) {
    const ra = runs.get(a)
    const rb = runs.get(b)
    if (!ra || !rb) continue
    const cols = (['wall', 'cpu'] as const).map((k) => {
      const per = ra.map((r, i) => r[k] / rb[i][k])
      const ofMedians = median(ra.map((r) => r[k])) / median(rb.map((r) => r[k]))
      return `${median(per).toFixed(2)}x (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}) | ${ofMedians.toFixed(2)}x`
    })
    console.log(`| ${a} / ${b} | ${cols.join(' | ')} |`)
  }
}

await main()
