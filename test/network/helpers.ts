// What the network acceptance test needs beside the network itself: JSON-RPC to one node, the Engine API as a
// consensus client calls it (JWT), a block turned back into an execution payload, and process bookkeeping.
import { createHmac } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import type { NetworkState } from '../../src/cli/network/layout.ts'

/** One JSON-RPC call; throws on an error answer (with the method in the message). */
export async function call<T = any>(url: string, method: string, params: unknown[] = [], headers = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(60_000),
  })
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message} (${body.error.code})`)
  return body.result as T
}

/** The JSON-RPC URL of node `i` (0-based). */
export const elUrl = (state: NetworkState, i: number) => `http://127.0.0.1:${state.nodes[i].el.rpcPort}`

/** An HS256 JWT with `iat` now, as a consensus client sends it (execution-apis authentication.md). */
export function engineJwt(secretFile: string): string {
  const hex = readFileSync(secretFile, 'utf8').trim().replace(/^0x/, '')
  const b64 = (s: string) => Buffer.from(s).toString('base64url')
  const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify({ iat: Math.floor(Date.now() / 1000) }))}`
  const sig = createHmac('sha256', Buffer.from(hex, 'hex')).update(head).digest('base64url')
  return `${head}.${sig}`
}

/** Call the Engine API of node `i` with its JWT secret. */
export function engineCall<T = any>(state: NetworkState, i: number, method: string, params: unknown[]): Promise<T> {
  const el = state.nodes[i].el
  return call<T>(`http://127.0.0.1:${el.authPort}`, method, params, {
    authorization: `Bearer ${engineJwt(el.jwtSecretFile)}`,
  })
}

/** An ExecutionPayloadV2 (Shanghai) rebuilt from a block served by a node's JSON-RPC. */
export async function payloadOf(url: string, number: number): Promise<Record<string, unknown>> {
  const b = await call<any>(url, 'eth_getBlockByNumber', [`0x${number.toString(16)}`, false])
  const transactions = await Promise.all(
    (b.transactions as string[]).map((h) => call<string>(url, 'eth_getRawTransactionByHash', [h])),
  )
  return {
    parentHash: b.parentHash,
    feeRecipient: b.miner,
    stateRoot: b.stateRoot,
    receiptsRoot: b.receiptsRoot,
    logsBloom: b.logsBloom,
    prevRandao: b.mixHash,
    blockNumber: b.number,
    gasLimit: b.gasLimit,
    gasUsed: b.gasUsed,
    timestamp: b.timestamp,
    extraData: b.extraData,
    baseFeePerGas: b.baseFeePerGas,
    blockHash: b.hash,
    transactions,
    withdrawals: b.withdrawals ?? [],
  }
}

/** Resident memory of a process in MiB (from /proc), or undefined when it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 1024) : undefined
  } catch {
    return undefined
  }
}

/** Pids of live processes whose command line mentions `marker` (the network directory). */
export function processesMentioning(marker: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (cmdline.includes(marker)) out.push({ pid: Number(d), cmdline })
    } catch {
      // exited while listing
    }
  }
  return out
}

/** Poll `f` every `everyMs` until it returns something (not undefined or null: a pending receipt is null). */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined | null>,
  timeoutMs: number,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await f()
      if (v !== undefined && v !== null) return v as T
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`${what}: not reached in ${Math.round(timeoutMs / 1000)} s${last ? ` (last error: ${last})` : ''}`)
}
