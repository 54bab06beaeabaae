// `npm run fuzz`: a devnet in a child process fed malformed and adversarial JSON-RPC requests, precompile calls
// (random bytes, structured calls that reach inference) and mutated ONNX files through registration and the
// runtime. After each phase the node must still answer; the run fails on a crash (the process exited), a
// request left unanswered, an HTTP 5xx, or RSS over 1.5 GiB. Internal errors (-32603) are listed, not fatal: the
// node caught them. Seeded (LATTICE_FUZZ_SEED); LATTICE_FUZZ_SHORT=1 is the CI mode (a tenth of the counts).
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exampleModels } from '../../examples/models/index.ts'
import { DType, tensorFromValues } from '../../src/inference/tensor.ts'
import { abiTensor, INFERENCE, inferenceAbi } from '../helpers/models.ts'

const SHORT = process.env.LATTICE_FUZZ_SHORT === '1'
const SEED = Number(process.env.LATTICE_FUZZ_SEED ?? Date.now() % 1_000_000)
const COUNTS = SHORT ? { rpc: 1000, precompile: 1000, onnx: 100 } : { rpc: 10_000, precompile: 10_000, onnx: 1000 }
const RSS_LIMIT = 1.5 * 1024 ** 3
const BIN = new URL('../../bin/lattice.js', import.meta.url).pathname
const ADDR0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

/** mulberry32: small, seeded, good enough to pick shapes. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(SEED)
const int = (n: number) => Math.floor(rand() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256))
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

interface Findings {
  requests: number
  internal: Map<string, number>
  unanswered: string[]
  http5xx: string[]
  maxRssBytes: number
}
const findings: Findings = { requests: 0, internal: new Map(), unanswered: [], http5xx: [], maxRssBytes: 0 }

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** POST a raw body; records 5xx, no answer and -32603s. Returns the parsed answer (undefined if none). */
async function post(url: string, body: string | Uint8Array, what: string): Promise<any> {
  findings.requests++
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(60_000),
    })
  } catch (err) {
    findings.unanswered.push(`${what}: ${(err as Error).message}`)
    return undefined
  }
  const text = await res.text()
  if (res.status >= 500) findings.http5xx.push(`${what}: HTTP ${res.status} ${text.slice(0, 200)}`)
  if (text === '') return undefined
  let parsed: any
  try {
    parsed = JSON.parse(text)
  } catch {
    findings.http5xx.push(`${what}: not JSON: ${text.slice(0, 200)}`)
    return undefined
  }
  for (const r of Array.isArray(parsed) ? parsed : [parsed]) {
    if (r?.error?.code === -32603) {
      const key = String(r.error.message).slice(0, 160)
      findings.internal.set(key, (findings.internal.get(key) ?? 0) + 1)
    }
  }
  return parsed
}

const call = (url: string, method: string, params: unknown[] = []) =>
  post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), method)

// ------------------------------------------------------------------ phase 1: JSON-RPC

const METHODS = [
  'eth_chainId',
  'eth_blockNumber',
  'eth_getBalance',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_getTransactionCount',
  'eth_call',
  'eth_estimateGas',
  'eth_createAccessList',
  'eth_getBlockByNumber',
  'eth_getBlockByHash',
  'eth_getTransactionByHash',
  'eth_getTransactionReceipt',
  'eth_getLogs',
  'eth_newFilter',
  'eth_getFilterChanges',
  'eth_uninstallFilter',
  'eth_feeHistory',
  'eth_gasPrice',
  'eth_sendRawTransaction',
  'eth_sendTransaction',
  'eth_simulateV1',
  'eth_getProof',
  'debug_traceTransaction',
  'debug_traceCall',
  'debug_getRawBlock',
  'txpool_content',
  'txpool_contentFrom',
  'evm_snapshot',
  'evm_increaseTime',
  'evm_setNextBlockTimestamp',
  'net_version',
  'web3_sha3',
  'lattice_infer',
  'lattice_getModel',
  'lattice_listModels',
  'lattice_estimateInference',
  'lattice_getInferenceProof',
  'ots_getApiLevel',
  'ots_searchTransactionsBefore',
  'no_such_method',
]

function randomValue(depth = 0): unknown {
  switch (int(depth > 4 ? 7 : 10)) {
    case 0:
      return pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, 1e308])
    case 1:
      return pick(['0x', '0x0', '0x00', '0xzz', `0x${'f'.repeat(int(200))}`, '-0x1', 'latest', 'pending', '', '\u0000'])
    case 2:
      return hex(bytes(pick([0, 1, 20, 32, 33, int(300)])))
    case 3:
      return pick([null, true, false])
    case 4:
      return pick([ADDR0, '0x0000000000000000000000000000000000000A11', '0xA110000000000000000000000000000000000001'])
    case 5:
      return 'x'.repeat(int(1000))
    case 6:
      return `\ud800${String.fromCharCode(int(0xffff))}`
    case 7:
      return Array.from({ length: int(5) }, () => randomValue(depth + 1))
    default: {
      const keys = ['from', 'to', 'data', 'input', 'gas', 'value', 'blockHash', 'fromBlock', 'topics', 'address']
      const o: Record<string, unknown> = {}
      for (let i = int(5); i > 0; i--) o[pick(keys)] = randomValue(depth + 1)
      return o
    }
  }
}

function randomRequest(): unknown {
  const shape = int(6)
  if (shape === 0) return { jsonrpc: pick(['2.0', '1.0', 2, undefined]), id: randomValue(3), method: pick(METHODS) }
  if (shape === 1) return { jsonrpc: '2.0', id: int(1e6), method: randomValue(4), params: randomValue(3) }
  return { jsonrpc: '2.0', id: int(1e6), method: pick(METHODS), params: randomValue(0) }
}

function randomBody(): string | Uint8Array {
  switch (int(9)) {
    case 0:
      return bytes(int(200))
    case 1: {
      const s = JSON.stringify(randomRequest())
      return s.slice(0, int(s.length))
    }
    case 2: {
      const levels = int(400)
      return `${'['.repeat(levels)}${']'.repeat(levels)}`
    }
    case 3:
      return JSON.stringify(
        Array.from({ length: 1 + int(20) }, () => (rand() < 0.2 ? randomValue(2) : randomRequest())),
      )
    case 4:
      return JSON.stringify([[randomRequest()]])
    case 5:
      return JSON.stringify(randomValue(0))
    default:
      return JSON.stringify(randomRequest())
  }
}

async function phaseRpc(url: string): Promise<void> {
  const CONCURRENCY = 8
  let next = 0
  const worker = async () => {
    while (next < COUNTS.rpc) {
      const i = next++
      await post(url, randomBody(), `rpc #${i}`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

// ------------------------------------------------------------------ phase 2: precompile

const SELECTOR_NAMES = ['infer', 'inferBatch', 'estimate'] as const

function randomTensor() {
  const dims = int(4)
  const shape = Array.from({ length: dims }, () => pick([0, 1, 2, 3, 4, 7, 64]))
  const n = shape.reduce((a, b) => a * b, 1)
  const dtype = pick([...Object.values(DType), 0, 4, 11, 128, 131, 205, 255])
  const size = rand() < 0.5 ? n * 4 : int(64)
  return { name: pick(['x', 'input', '', 'nope']), dtype, shape, data: bytes(Math.min(size, 4096)) }
}

function irisInput(rows: number) {
  const values = Array.from({ length: rows * 4 }, () =>
    rand() < 0.05 ? pick([Number.NaN, Number.POSITIVE_INFINITY, -0, 1e38]) : rand() * 10,
  )
  return tensorFromValues('x', DType.float32, [rows, 4], values)
}

function precompileData(modelId: string): string {
  switch (int(7)) {
    case 0:
      return hex(bytes(int(300)))
    case 1: {
      const sel = inferenceAbi.getFunction(pick(SELECTOR_NAMES))?.selector ?? '0x'
      return sel + Buffer.from(bytes(int(400))).toString('hex')
    }
    case 2:
      return inferenceAbi.encodeFunctionData('infer', [
        rand() < 0.8 ? modelId : hex(bytes(32)),
        Array.from({ length: int(3) }, () => abiTensor(randomTensor())),
      ])
    case 3:
      return inferenceAbi.encodeFunctionData('estimate', [modelId, [abiTensor(irisInput(1 + int(64)))]])
    case 4:
      return inferenceAbi.encodeFunctionData('inferBatch', [
        modelId,
        Array.from({ length: 1 + int(8) }, () => [abiTensor(irisInput(1 + int(4)))]),
      ])
    default:
      // a structured call that reaches inference
      return inferenceAbi.encodeFunctionData('infer', [modelId, [abiTensor(irisInput(1 + int(64)))]])
  }
}

async function phasePrecompile(url: string, modelId: string): Promise<{ ok: number; reverted: number }> {
  const BATCH = 50
  let ok = 0
  let reverted = 0
  for (let done = 0; done < COUNTS.precompile; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, COUNTS.precompile - done) }, (_, i) => ({
      jsonrpc: '2.0',
      id: done + i,
      method: 'eth_call',
      params: [
        { to: INFERENCE, data: precompileData(modelId), ...(rand() < 0.3 ? { gas: hex(bytes(int(9))) } : {}) },
        'latest',
      ],
    }))
    const answers = await post(url, JSON.stringify(batch), `precompile batch at ${done}`)
    for (const a of Array.isArray(answers) ? answers : []) {
      if (a.result !== undefined) ok++
      else reverted++
    }
  }
  return { ok, reverted }
}

// ------------------------------------------------------------------ phase 3: mutated ONNX

function mutate(model: Uint8Array): Uint8Array {
  const out = Uint8Array.from(model)
  switch (int(5)) {
    case 0:
      for (let i = 1 + int(8); i > 0; i--) out[int(out.length)] = int(256)
      return out
    case 1:
      return out.subarray(0, int(out.length))
    case 2: {
      const at = int(out.length)
      return Uint8Array.from([...out.subarray(0, at), ...bytes(1 + int(64)), ...out.subarray(at)])
    }
    case 3: {
      // a length-ish byte bumped: protobuf varints decide how the rest is read
      for (let i = 1 + int(3); i > 0; i--) {
        const at = int(out.length)
        out[at] = ((out[at] as number) + pick([1, -1, 0x40, 0x80])) & 0xff
      }
      return out
    }
    default: {
      const a = int(out.length)
      const b = Math.min(out.length, a + int(200))
      return Uint8Array.from([...out, ...out.subarray(a, b)])
    }
  }
}

async function phaseOnnx(
  url: string,
  model: Uint8Array,
): Promise<{ registered: number; refused: number; ran: number }> {
  let registered = 0
  let refused = 0
  let ran = 0
  for (let i = 0; i < COUNTS.onnx; i++) {
    const bytesOut = mutate(model)
    const r = await call(url, 'lattice_deployModel', [
      { name: `fuzz-${SEED}-${i}`, model: Buffer.from(bytesOut).toString('base64'), from: ADDR0 },
    ])
    if (!r?.result?.modelId) {
      refused++
      continue
    }
    registered++
    const data = inferenceAbi.encodeFunctionData('infer', [r.result.modelId, [abiTensor(irisInput(1 + int(8)))]])
    const run = await call(url, 'eth_call', [{ to: INFERENCE, data }, 'latest'])
    if (run?.result) ran++
  }
  return { registered, refused, ran }
}

// ------------------------------------------------------------------ the run

async function startNode(datadir: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(
    process.execPath,
    [BIN, 'devnet', '--port', String(port), '--datadir', datadir, '--no-examples', '--rpc.evmtimeout', '5s'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout?.on('data', (d) => {
    output = (output + d).slice(-20_000)
  })
  child.stderr?.on('data', (d) => {
    output = (output + d).slice(-20_000)
  })
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the devnet exited at start:\n${output}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}',
      })
      if (res.ok) return { child, output: () => output }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  child.kill('SIGKILL')
  throw new Error(`the devnet did not start:\n${output}`)
}

async function main(): Promise<number> {
  console.log(`fuzz: seed ${SEED}${SHORT ? ' (short mode)' : ''}; counts ${JSON.stringify(COUNTS)}`)
  const datadir = mkdtempSync(join(tmpdir(), 'lattice-fuzz-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const { child, output } = await startNode(datadir, port)
  const sampler = setInterval(() => {
    findings.maxRssBytes = Math.max(findings.maxRssBytes, rssOf(child.pid as number))
  }, 200)
  const failures: string[] = []
  const alive = async (phase: string) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      failures.push(`${phase}: the node crashed (exit ${child.exitCode ?? child.signalCode})\n${output()}`)
      return false
    }
    const t0 = performance.now()
    const r = await call(url, 'eth_blockNumber')
    if (!r?.result) failures.push(`${phase}: the node did not answer eth_blockNumber afterwards`)
    console.log(
      `  after ${phase}: eth_blockNumber ${r?.result} in ${(performance.now() - t0).toFixed(0)} ms, RSS max ${(findings.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
    )
    return Boolean(r?.result)
  }
  try {
    let t = performance.now()
    await phaseRpc(url)
    console.log(`phase 1: ${COUNTS.rpc} JSON-RPC bodies in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    if (!(await alive('JSON-RPC'))) return 1

    const iris = exampleModels({ only: ['iris'] })[0]
    if (!iris) throw new Error('the iris example model is missing')
    const dep = await call(url, 'lattice_deployModel', [
      { name: `fuzz-iris-${SEED}`, model: Buffer.from(iris.bytes).toString('base64'), from: ADDR0 },
    ])
    const modelId = dep?.result?.modelId as string | undefined
    if (!modelId) throw new Error(`could not deploy the iris model: ${JSON.stringify(dep)}`)
    t = performance.now()
    const pre = await phasePrecompile(url, modelId)
    console.log(
      `phase 2: ${COUNTS.precompile} precompile calls in ${((performance.now() - t) / 1000).toFixed(1)} s (${pre.ok} answered, ${pre.reverted} errors)`,
    )
    if (!(await alive('precompile calls'))) return 1

    t = performance.now()
    const onnx = await phaseOnnx(url, iris.bytes)
    console.log(
      `phase 3: ${COUNTS.onnx} mutated ONNX files in ${((performance.now() - t) / 1000).toFixed(1)} s (${onnx.refused} refused at registration, ${onnx.registered} registered, ${onnx.ran} of them ran)`,
    )
    if (!(await alive('mutated ONNX'))) return 1
  } finally {
    clearInterval(sampler)
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    rmSync(datadir, { recursive: true, force: true })
  }
  console.log(`requests: ${findings.requests}; max RSS ${(findings.maxRssBytes / 2 ** 20).toFixed(0)} MiB`)
  if (findings.internal.size > 0) {
    console.log('internal errors (-32603), caught by the node:')
    for (const [msg, n] of findings.internal) console.log(`  ${n} x ${msg}`)
  }
  if (findings.unanswered.length > 0) failures.push(`unanswered: ${findings.unanswered.slice(0, 5).join('; ')}`)
  if (findings.http5xx.length > 0) failures.push(`bad answers: ${findings.http5xx.slice(0, 5).join('; ')}`)
  if (findings.maxRssBytes > RSS_LIMIT) failures.push(`RSS reached ${findings.maxRssBytes} bytes`)
  for (const f of failures) console.error(`FAIL ${f}`)
  console.log(failures.length === 0 ? 'fuzz: 0 crashes, the node answered after every phase' : 'fuzz: FAILED')
  return failures.length === 0 ? 0 : 1
}

process.exitCode = await main()
