// A scripted consensus side for Engine API tests: a Lattice node with --authrpc in process (or its genesis for a
// child process), JWT-signed calls, and the fcU+attributes → getPayload → newPayload → fcU sequence of a slot.
import type { ChildProcess } from 'node:child_process'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initDatadir } from '../../src/chain/datadir.ts'
import { DEVNET_GENESIS_PATH } from '../../src/chain/genesis.ts'
import type { RunningNode } from '../../src/cli/node.ts'
import { startNode } from '../../src/cli/node.ts'
import { loadOrCreateJwtSecret, signJwt } from '../../src/engine/jwt.ts'
import { freePort } from './devnet-process.ts'

export const ZERO_HASH = `0x${'00'.repeat(32)}`
export const FORKS = ['paris', 'shanghai', 'cancun', 'prague', 'osaka'] as const
export type Fork = (typeof FORKS)[number]

const TIME_KEYS: Record<string, Fork> = {
  shanghaiTime: 'shanghai',
  cancunTime: 'cancun',
  pragueTime: 'prague',
  osakaTime: 'osaka',
  bpo1Time: 'osaka',
  bpo2Time: 'osaka',
}

/** The devnet genesis with forks up to `last` (later fork times removed), written to `dir/genesis.json`. */
export function writeGenesis(dir: string, last: Fork): string {
  const g = JSON.parse(readFileSync(fileURLToPath(DEVNET_GENESIS_PATH), 'utf8'))
  const upto = FORKS.indexOf(last)
  for (const [key, fork] of Object.entries(TIME_KEYS)) {
    if (FORKS.indexOf(fork) > upto || (key.startsWith('bpo') && last !== 'osaka')) delete g.config[key]
  }
  // without a timestamp fork ethereumjs only knows the chain is past the merge from this (geth writes it too)
  g.config.terminalTotalDifficultyPassed = true
  if (upto < FORKS.indexOf('cancun')) {
    delete g.excessBlobGas
    delete g.blobGasUsed
    delete g.config.blobSchedule
  } else if (g.config.blobSchedule) {
    for (const k of Object.keys(g.config.blobSchedule)) if (!(`${k}Time` in g.config)) delete g.config.blobSchedule[k]
  }
  const path = join(dir, 'genesis.json')
  writeFileSync(path, JSON.stringify(g, null, 2))
  return path
}

/** A JSON-RPC reply from the Engine port, with the HTTP status. */
export interface EngineReply {
  status: number
  result?: any
  error?: { code: number; message: string }
  text: string
}

/** JWT-authenticated Engine API calls to `url`. */
export class EngineClient {
  constructor(
    readonly url: string,
    readonly secret: Uint8Array,
  ) {}

  async call(method: string, params: unknown[] = [], token?: string): Promise<EngineReply> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? signJwt(this.secret)}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    const text = await res.text()
    let body: any = {}
    try {
      body = JSON.parse(text)
    } catch {
      // 401 answers in plain text
    }
    return { status: res.status, result: body.result, error: body.error, text }
  }

  /** `call`, failing with the error when there is one. */
  async ok(method: string, params: unknown[] = []): Promise<any> {
    const r = await this.call(method, params)
    if (r.error || r.status !== 200) throw new Error(`${method}: ${r.status} ${r.text}`)
    return r.result
  }
}

/** Payload attributes for a method version at `timestamp`. */
export function attributes(version: 1 | 2 | 3, timestamp: bigint, feeRecipient = `0x${'11'.repeat(20)}`) {
  return {
    timestamp: `0x${timestamp.toString(16)}`,
    prevRandao: `0x${'ab'.repeat(32)}`,
    suggestedFeeRecipient: feeRecipient,
    ...(version >= 2 ? { withdrawals: [] } : {}),
    ...(version === 3 ? { parentBeaconBlockRoot: `0x${'cd'.repeat(32)}` } : {}),
  }
}

/** Method versions for a fork: [forkchoiceUpdated, getPayload, newPayload]. */
export function versionsFor(fork: Fork): { fcu: 1 | 2 | 3; get: 1 | 2 | 3 | 4 | 5; np: 1 | 2 | 3 | 4 } {
  switch (fork) {
    case 'paris':
      return { fcu: 1, get: 1, np: 1 }
    case 'shanghai':
      return { fcu: 2, get: 2, np: 2 }
    case 'cancun':
      return { fcu: 3, get: 3, np: 3 }
    case 'prague':
      return { fcu: 3, get: 4, np: 4 }
    default:
      return { fcu: 3, get: 5, np: 4 }
  }
}

/** newPayload params for a getPayload answer. */
export function newPayloadParams(np: number, got: any): unknown[] {
  const payload = got.executionPayload ?? got
  if (np <= 2) return [payload]
  const params: unknown[] = [payload, [], `0x${'cd'.repeat(32)}`]
  if (np === 4) params.push(got.executionRequests ?? [])
  return params
}

/**
 * One slot of a consensus client: fcU(head, attrs) → getPayload → newPayload, then (unless `adopt` is false)
 * fcU to the new block. Returns the payload and the getPayload answer.
 */
export async function produceBlock(
  client: EngineClient,
  fork: Fork,
  parentHash: string,
  timestamp: bigint,
  opts: { adopt?: boolean; feeRecipient?: string; safe?: string; finalized?: string } = {},
): Promise<{ payload: any; got: any; status: any }> {
  const v = versionsFor(fork)
  const state = {
    headBlockHash: parentHash,
    safeBlockHash: opts.safe ?? ZERO_HASH,
    finalizedBlockHash: opts.finalized ?? ZERO_HASH,
  }
  const fcu = await client.ok(`engine_forkchoiceUpdatedV${v.fcu}`, [
    state,
    attributes(v.fcu, timestamp, opts.feeRecipient),
  ])
  if (fcu.payloadStatus.status !== 'VALID' || !fcu.payloadId) throw new Error(`fcU: ${JSON.stringify(fcu)}`)
  const got = await client.ok(`engine_getPayloadV${v.get}`, [fcu.payloadId])
  const payload = got.executionPayload ?? got
  const status = await client.ok(`engine_newPayloadV${v.np}`, newPayloadParams(v.np, got))
  if (opts.adopt !== false) {
    await client.ok(`engine_forkchoiceUpdatedV${v.fcu}`, [{ ...state, headBlockHash: payload.blockHash }])
  }
  return { payload, got, status }
}

/** An in-process `lattice node --authrpc.port 0` on a fresh datadir with forks up to `fork`. */
export interface EngineNode {
  node: RunningNode
  engine: EngineClient
  rpcUrl: string
  datadir: string
  genesisTimestamp: bigint
  close(): Promise<void>
}

export async function startEngineNode(fork: Fork, opts: { validatorKey?: string } = {}): Promise<EngineNode> {
  const datadir = mkdtempSync(join(tmpdir(), `lattice-engine-${fork}-`))
  const genesisPath = writeGenesis(datadir, fork)
  await initDatadir({ datadir: join(datadir, 'node'), genesisPath })
  const jwtSecretPath = join(datadir, 'jwt.hex')
  const node = await startNode({
    datadir: join(datadir, 'node'),
    port: 0,
    authrpc: { port: 0, jwtSecretPath },
    validatorKey: opts.validatorKey,
    callLimits: { timeoutMs: 120_000 },
  })
  const { secret } = loadOrCreateJwtSecret(jwtSecretPath)
  const engine = new EngineClient(node.engine!.url, secret)
  return {
    node,
    engine,
    rpcUrl: node.server.url,
    datadir,
    genesisTimestamp: node.node.chain.blockchain.genesisBlock.header.timestamp,
    close: async () => {
      await node.close()
      rmSync(datadir, { recursive: true, force: true })
    },
  }
}

/** A `lattice node --authrpc.*` child process on a fresh datadir (initialised from `genesisPath`). */
export interface EngineProcess {
  engine: EngineClient
  rpcUrl: string
  child: ChildProcess
  output: () => string
  stop(): Promise<void>
}

const BIN = fileURLToPath(new URL('../../bin/lattice.js', import.meta.url))

/** Start `lattice init` + `lattice node --authrpc.port` in `dir`; `env` adds environment variables (test switches). */
export async function startEngineProcess(
  dir: string,
  genesisPath: string,
  opts: { env?: Record<string, string>; children?: ChildProcess[]; timeoutMs?: number } = {},
): Promise<EngineProcess> {
  const datadir = join(dir, 'node')
  const init = spawnSync(process.execPath, [BIN, 'init', '--datadir', datadir, '--genesis', genesisPath], {
    encoding: 'utf8',
  })
  if (init.status !== 0) throw new Error(`lattice init failed: ${init.stdout}${init.stderr}`)
  const [port, authPort] = [await freePort(), await freePort()]
  const jwt = join(dir, 'jwtsecret')
  const child = spawn(
    process.execPath,
    [
      BIN,
      'node',
      '--datadir',
      datadir,
      '--port',
      String(port),
      '--authrpc.port',
      String(authPort),
      '--authrpc.jwtsecret',
      jwt,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  )
  opts.children?.push(child)
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    out += d
  })
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000)
  while (!out.includes('Engine API:')) {
    if (child.exitCode !== null) throw new Error(`lattice node exited early:\n${out}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`lattice node did not start:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const { secret } = loadOrCreateJwtSecret(jwt)
  return {
    engine: new EngineClient(`http://127.0.0.1:${authPort}`, secret),
    rpcUrl: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      // a node that does not stop in 20 s is killed (the test still cleans up)
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    },
  }
}
