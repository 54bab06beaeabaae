/**
 * The floor ethereumjs sets for an eth_call, with anvil as the baseline in the same run (issue 17: head eth_call
 * ≤ 2x anvil; "where a target is missed, the note shows the profile that proves the floor"). Per round, in order
 * (reversed every other round), each variant serves N calls of the Counter `get()` view at the head:
 *
 *   anvil        anvil 1.7.1 over HTTP: eth_call, then eth_chainId (its HTTP + JSON-RPC floor); CPU from /proc.
 *   devnet       `lattice devnet` from compiled JavaScript over HTTP, the same two; CPU from /proc.
 *   ejs-runcall  bare ethereumjs in-process (bench/ejs-vm.ts: the devnet's genesis, Common, caches and crypto, MapDB),
 *                Counter deployed, then `vm.evm.runCall` of the view: the EVM alone, no transaction, no revert.
 *   ejs-runtx    the same VM: checkpoint, `createTx` of an unsigned call transaction, `runTx` (balance, nonce and
 *                block gas checks skipped, as eth_call), revert: what any eth_call on ethereumjs needs.
 *   lattice      Lattice's call path in-process (startDevnet; `node.execute` under fresh call limits handed down, as
 *                the eth_call handler does): everything but HTTP and JSON-RPC.
 *   spin         a minimal HTTP server (node:net, one canned JSON-RPC answer) that busy-waits, per request, for the
 *                wall time ejs-runtx took per call in the same round before it answers: what a node whose whole
 *                request costs bare ethereumjs' eth_call takes over HTTP on this machine, with the wake-ups a
 *                longer answer costs (a peer that waited longer sleeps deeper); run last in each round.
 *   lattice-rpc  Lattice's whole JSON-RPC stack in-process: the request body given to the devnet's server as HTTP
 *                hands it over (`RpcServer.answer`: framing, JSON parse, dispatch, limits, the eth_call handler,
 *                the response text); only HTTP and the socket are left out.
 *
 * Process CPU (utime + stime) and wall per call; in-process variants read their own (they run in fresh child
 * processes). Printed: medians over rounds with spread, ratios to anvil's eth_call, and the floor estimate
 * `ejs-runcall + devnet eth_chainId` (and with ejs-runtx) against anvil's eth_call.
 *
 *   node --import tsx bench/call-floor.ts [--calls 2000] [--rounds 3] [--port-base 29100] [--only a,b,...]
 *     [--calldata BYTES]
 *
 * `--calldata 111000` appends that many bytes to every call's calldata (the view ignores them): what an eth_call
 * carrying a large model input (ppocr-det's is ~111 KB) costs ethereumjs before any precompile runs.
 */
import '../src/polyfills.ts'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createBlock } from '@ethereumjs/block'
import type { TypedTxData } from '@ethereumjs/tx'
import { createTx } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { runTx } from '@ethereumjs/vm'
import { Interface } from 'ethers'
import { COUNTER_SOL, compileContract } from '../test/helpers/solc.ts'
import { bareVm } from './ejs-vm.ts'
import { compileDist, processCpuMs, rpc, startHttpTarget, stopChild, until } from './helpers.ts'
import { cell, fmtMs, median } from './stats.ts'

const VARIANTS = ['anvil', 'devnet', 'ejs-runcall', 'ejs-runtx', 'lattice', 'lattice-rpc', 'spin'] as const
type Variant = (typeof VARIANTS)[number]

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    'port-base': { type: 'string', default: '29100' },
    only: { type: 'string', default: VARIANTS.join(',') },
    worker: { type: 'string' },
    calldata: { type: 'string', default: '0' },
    'spin-ms': { type: 'string', default: '0' },
    port: { type: 'string', default: '0' },
  },
})
const N = Number(values.calls)
const WARMUP = 300
const ROUNDS = Number(values.rounds)
const PORT_BASE = Number(values['port-base'])
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DEPLOYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const _require = createRequire(import.meta.url)
const counter = compileContract(COUNTER_SOL, 'Counter')
const GET = `${new Interface(counter.abi).encodeFunctionData('get')}${'ab'.repeat(Number(values.calldata))}`

/** ms per op, wall and CPU; `chainId` for the HTTP variants. */
interface Result {
  wall: number
  cpu: number
  chainIdWall?: number
  chainIdCpu?: number
}

const selfCpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

async function timed(
  n: number,
  cpu: () => number,
  step: () => Promise<unknown>,
): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < WARMUP; i++) await step()
  const t0 = performance.now()
  const c0 = cpu()
  for (let i = 0; i < n; i++) await step()
  return { wall: (performance.now() - t0) / n, cpu: (cpu() - c0) / n }
}

// ------------------------------------------------------------------------------------------- bare ethereumjs

async function runEjs(withTx: boolean): Promise<Result> {
  const { vm } = await bareVm()
  const caller = createAddressFromString(DEPLOYER)
  const deployed = await vm.evm.runCall({
    caller,
    data: hexToBytes(counter.bytecode as `0x${string}`),
    gasLimit: 5_000_000n,
  })
  const to = deployed.createdAddress as Address
  if (!to || deployed.execResult.exceptionError) throw new Error('Counter deploy failed')
  const data = hexToBytes(GET as `0x${string}`)
  // EIP-7825 caps a transaction at 2^24 gas (Osaka)
  const gasLimit = 16_777_216n
  if (!withTx) {
    return timed(N, selfCpu, async () => {
      const r = await vm.evm.runCall({ caller, to, data, gasLimit })
      if (r.execResult.exceptionError) throw new Error('call failed')
    })
  }
  const sm = vm.stateManager
  // eth_call's block: the head's context with a zero base fee (geth's NoBaseFee for a call that names no fee)
  const block = createBlock(
    { header: { number: 1n, baseFeePerGas: 0n, gasLimit: 60_000_000n } },
    { common: vm.common, skipConsensusFormatValidation: true },
  )
  return timed(N, selfCpu, async () => {
    await sm.checkpoint()
    try {
      const nonce = (await sm.getAccount(caller))?.nonce ?? 0n
      const tx = createTx(
        { type: 2, nonce, gasLimit, to, data, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n } as TypedTxData,
        {
          common: vm.common,
          freeze: false,
        },
      )
      ;(tx as { getSenderAddress: () => Address }).getSenderAddress = () => caller
      ;(tx as { isSigned: () => boolean }).isSigned = () => true
      const r = await runTx(vm, {
        tx,
        block,
        skipBalance: true,
        skipNonce: true,
        skipBlockGasLimitValidation: true,
        skipHardForkValidation: true,
      })
      if (r.execResult.exceptionError) throw new Error('call failed')
    } finally {
      await sm.revert()
    }
  })
}

// ------------------------------------------------------------------------------------------- lattice in-process

async function runLattice(rpcStack: boolean): Promise<Result> {
  const { startDevnet } = await import('../src/cli/devnet.ts')
  const { CallLimits, withPassedCallLimits } = await import('../src/chain/call-limits.ts')
  const { throwOnFailure } = await import('../src/chain/calls.ts')
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-call-floor-'))
  const devnet = await startDevnet({ datadir, port: 0 })
  try {
    const to = await deploy(devnet.server.url)
    const req = { to: createAddressFromString(to), data: hexToBytes(GET as `0x${string}`) }
    if (rpcStack) {
      const body = new TextEncoder().encode(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to, data: GET }, 'latest'] }),
      )
      return await timed(N, selfCpu, async () => {
        if (!(await devnet.server.answer(body)).includes('"result"')) throw new Error('eth_call failed')
      })
    }
    return await timed(N, selfCpu, () =>
      withPassedCallLimits(new CallLimits(), async (limits) => {
        throwOnFailure(await devnet.node.execute(req, devnet.node.chain.head, undefined, { limits }))
      }),
    )
  } finally {
    await devnet.close()
    rmSync(datadir, { recursive: true, force: true })
  }
}

// ------------------------------------------------------------------------------------------- over HTTP

async function deploy(url: string): Promise<string> {
  const hash = await rpc(url, 'eth_sendTransaction', [{ from: DEPLOYER, data: counter.bytecode }])
  const rcpt = await until(`deploy receipt ${hash}`, () => rpc(url, 'eth_getTransactionReceipt', [hash]))
  return rcpt.contractAddress as string
}

let latticeEntry: string | undefined

async function runHttp(name: 'anvil' | 'devnet', port: number): Promise<Result> {
  const { url, child, datadir } = await startHttpTarget(
    name,
    port,
    () => (latticeEntry ??= compileDist(ROOT, PORT_BASE)),
  )
  try {
    const to = await deploy(url)
    const cpu = () => processCpuMs(child.pid as number)
    const call = await timed(N, cpu, () => rpc(url, 'eth_call', [{ to, data: GET }, 'latest']))
    const chainId = await timed(N, cpu, () => rpc(url, 'eth_chainId'))
    return { ...call, chainIdWall: chainId.wall, chainIdCpu: chainId.cpu }
  } finally {
    await stopChild(child, datadir)
  }
}

// ------------------------------------------------------------------------------------------- spin

/** The spin worker: answers every POST with one canned eth_call result after busy-waiting `spinMs`. */
async function serveSpin(port: number, spinMs: number): Promise<void> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: `0x${'00'.repeat(32)}` })
  const answer = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`
  const server = createServer((socket) => {
    socket.setNoDelay(true)
    let buf = ''
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1')
      for (;;) {
        const head = buf.indexOf('\r\n\r\n')
        if (head < 0) return
        const length = Number(/content-length: *(\d+)/i.exec(buf.slice(0, head))?.[1] ?? 0)
        if (buf.length < head + 4 + length) return
        buf = buf.slice(head + 4 + length)
        const until = performance.now() + spinMs
        while (performance.now() < until) {}
        socket.write(answer)
      }
    })
  })
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  process.stdout.write('ready\n')
}

async function runSpin(port: number, spinMs: number): Promise<Result> {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--worker', 'spin', '--port', String(port)]
  const child = spawn(process.execPath, [...args, '--spin-ms', String(spinMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve())
      child.once('exit', () => reject(new Error('the spin server exited')))
    })
    const url = `http://127.0.0.1:${port}`
    return await timed(
      N,
      () => processCpuMs(child.pid as number),
      () => rpc(url, 'eth_call', [{ data: GET }, 'latest']),
    )
  } finally {
    await stopChild(child)
  }
}

// ------------------------------------------------------------------------------------------- orchestration

function inChild(variant: Variant): Result {
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--worker',
    variant,
    '--calls',
    String(N),
    '--calldata',
    String(values.calldata),
  ]
  const out = execFileSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as Result
}

function runVariant(v: Variant, round: number): Promise<Result> | Result {
  if (v === 'anvil') return runHttp('anvil', PORT_BASE + 2 * round)
  if (v === 'devnet') return runHttp('devnet', PORT_BASE + 2 * round + 1)
  return inChild(v)
}

async function main(): Promise<void> {
  if (values.worker === 'spin') return serveSpin(Number(values.port), Number(values['spin-ms']))
  if (values.worker) {
    const w = values.worker as Variant
    const r =
      w === 'lattice' || w === 'lattice-rpc' ? await runLattice(w === 'lattice-rpc') : await runEjs(w === 'ejs-runtx')
    process.stdout.write(`${JSON.stringify(r)}\n`)
    return
  }
  const chosen = values.only.split(',').map((s) => s.trim()) as Variant[]
  for (const v of chosen) if (!VARIANTS.includes(v)) throw new Error(`--only: unknown variant ${v}`)
  const runs = new Map<Variant, Result[]>(chosen.map((v) => [v, []]))
  const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  const start = new Date().toISOString()
  if (chosen.includes('spin') && !chosen.includes('ejs-runtx')) throw new Error('--only: spin needs ejs-runtx')
  const ordered = chosen.filter((v) => v !== 'spin')
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of [
      ...(round % 2 === 0 ? ordered : [...ordered].reverse()),
      ...(chosen.includes('spin') ? ['spin' as const] : []),
    ]) {
      const r =
        v === 'spin'
          ? await runSpin(PORT_BASE + 40 + round, runs.get('ejs-runtx')?.[round]?.wall ?? 0)
          : await runVariant(v, round)
      runs.get(v)?.push(r)
      console.error(`round ${round + 1} ${v}: ${JSON.stringify(r, (_, x) => (typeof x === 'number' ? +fmtMs(x) : x))}`)
    }
  }
  const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  console.log(
    `\nnode ${process.version}, ${start} → ${new Date().toISOString()}, load ${load0} → ${load1}; ${N} calls per ` +
      `variant and round (after ${WARMUP} unmeasured), ${ROUNDS} rounds`,
  )
  console.log('\n| variant (ms per call, median over rounds, spread) | wall | CPU |\n| --- | ---: | ---: |')
  for (const [v, rs] of runs) {
    console.log(`| ${v} | ${cell(rs.map((r) => r.wall))} | ${cell(rs.map((r) => r.cpu))} |`)
    if (rs[0]?.chainIdCpu !== undefined)
      console.log(
        `| ${v} eth_chainId | ${cell(rs.map((r) => r.chainIdWall ?? 0))} | ${cell(rs.map((r) => r.chainIdCpu ?? 0))} |`,
      )
  }
  const anvil = runs.get('anvil')
  if (!anvil) return
  const ratio = (label: string, of: (i: number) => { wall: number; cpu: number } | undefined) => {
    const per = anvil.map((a, i) => {
      const x = of(i)
      return x ? { wall: x.wall / a.wall, cpu: x.cpu / a.cpu } : undefined
    })
    if (per.some((x) => !x)) return
    const w = per.map((x) => x?.wall ?? 0)
    const c = per.map((x) => x?.cpu ?? 0)
    console.log(
      `| ${label} | ${median(w).toFixed(2)}x (${Math.min(...w).toFixed(2)}–${Math.max(...w).toFixed(2)}) | ${median(c).toFixed(2)}x (${Math.min(...c).toFixed(2)}–${Math.max(...c).toFixed(2)}) |`,
    )
  }
  console.log("\n| against anvil's eth_call (per round) | wall | CPU |\n| --- | ---: | ---: |")
  const devnet = runs.get('devnet')
  const sum = (v: Variant) => (i: number) => {
    const e = runs.get(v)?.[i]
    const d = devnet?.[i]
    return e && d ? { wall: e.wall + (d.chainIdWall ?? 0), cpu: e.cpu + (d.chainIdCpu ?? 0) } : undefined
  }
  ratio('devnet eth_call', (i) => devnet?.[i])
  ratio('lattice in-process call path', (i) => runs.get('lattice')?.[i])
  ratio('lattice in-process JSON-RPC stack + devnet eth_chainId', sum('lattice-rpc'))
  ratio('floor: ejs-runcall + devnet eth_chainId', sum('ejs-runcall'))
  ratio('floor: ejs-runtx + devnet eth_chainId', sum('ejs-runtx'))
  ratio("floor: a server busy for ejs-runtx's time per request (spin)", (i) => runs.get('spin')?.[i])
  ratio('anvil eth_chainId', (i) => ({ wall: anvil[i].chainIdWall ?? 0, cpu: anvil[i].chainIdCpu ?? 0 }))
}

await main()
