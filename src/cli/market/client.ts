// A client for the InferenceMarket predeploy (contracts/IInferenceMarket.sol): typed reads, simulated-then-sent
// transactions, and its events from eth_getLogs. The executor, the challenger and the market commands share it.
import type { InterfaceAbi, LogDescription, TransactionReceipt } from 'ethers'
import { Interface, keccak256 } from 'ethers'
import { contractAbi } from '../../chain/abi.ts'
import type { Tensor } from '../../inference/tensor.ts'
import { abiTensors, encodeTensors } from '../../precompiles/abi.ts'
import { INFERENCE_MARKET_ADDRESS } from '../../precompiles/addresses.ts'
import { TransactionFailedError } from '../errors.ts'
import type { NodeConnection } from '../model-client.ts'
import { INFERENCE_ABI, INFERENCE_ADDRESS, revertReason, sendAndWait } from '../model-client.ts'
import { MarketMissingError } from './errors.ts'

export { abiTensors }

/** Where genesis predeploys the market. */
export const MARKET_ADDRESS = INFERENCE_MARKET_ADDRESS

/** The market's ABI, from the solc build. */
export const MARKET_ABI = contractAbi('IInferenceMarket') as InterfaceAbi
export const marketInterface = new Interface(MARKET_ABI)

/** `IInferenceMarket.Status`, by its enum index. */
export const REQUEST_STATUS = ['none', 'requested', 'claimed', 'finalized', 'overturned', 'cancelled'] as const
export type RequestStatus = (typeof REQUEST_STATUS)[number]

/** `IInferenceMarket.Request`. */
export interface MarketRequest {
  id: bigint
  requester: string
  modelId: string
  callback: string
  maxFee: bigint
  inputsHash: string
  requestedAt: number
  status: RequestStatus
  executor: string
  outputHash: string
  claimedAt: number
  verified: boolean
}

/** `IInferenceMarket.Executor`. */
export interface MarketExecutor {
  stake: bigint
  price: bigint
  provider: string
  claims: number
  openClaims: number
  slashed: number
  active: boolean
}

/** `Tolerance` (contracts/IInferenceMarket.sol). */
export interface MarketTolerance {
  maxUlp: number
  maxAbsE9: bigint
  sameArgmax: boolean
  set: boolean
}

/** One decoded market event with where it was logged. */
export interface MarketEvent {
  name: string
  args: LogDescription['args']
  blockNumber: number
  txHash: string
  logIndex: number
}

/** ABI-decoded `Tensor[]` (ethers Result rows) back to canonical tensors. */
export function tensorsOfAbi(raw: readonly unknown[]): Tensor[] {
  return raw.map((r) => {
    const t = r as [string, bigint, bigint[], string]
    return {
      name: t[0],
      dtype: Number(t[1]),
      shape: t[2].map(Number),
      data: new Uint8Array(Buffer.from(t[3].slice(2), 'hex')),
    }
  })
}

/** keccak256(abi.encode(tensors)): the market's inputsHash / outputHash (the precompile's own encoder). */
export function tensorsHash(ts: readonly Tensor[]): string {
  return keccak256(encodeTensors(ts))
}

/** The market as seen from one node connection. */
export interface Market {
  readonly conn: NodeConnection
  request(id: bigint): Promise<MarketRequest>
  executor(address: string): Promise<MarketExecutor>
  tolerance(modelId: string): Promise<MarketTolerance>
  challengeWindow(): Promise<number>
  challengeBond(): Promise<bigint>
  minStake(): Promise<bigint>
  requestCount(): Promise<bigint>
  credit(address: string): Promise<bigint>
  /** eth_call a function from the signer (or `from`); a revert becomes TransactionFailedError with the reason. */
  simulate(fn: string, args: unknown[], opts?: { value?: bigint; from?: string; what?: string }): Promise<any[]>
  /** Simulate, then send from the signer and wait for the receipt; its market events decoded. */
  send(
    fn: string,
    args: unknown[],
    opts: { value?: bigint; what: string; gasLimit?: bigint },
  ): Promise<{ receipt: TransactionReceipt; events: MarketEvent[] }>
  /** Market events named `name` in blocks [from, to], filtered by indexed topics (null: any). */
  events(name: string, from: number, to: number, topics?: (string | null)[]): Promise<MarketEvent[]>
}

/** Open the market on `conn`; refuses a node without the predeploy. */
export async function openMarket(conn: NodeConnection): Promise<Market> {
  const code = await conn.call<string>('eth_getCode', [MARKET_ADDRESS, 'latest'])
  if (!code || code === '0x') throw new MarketMissingError(MARKET_ADDRESS, conn.url)
  const view = async (fn: string, args: unknown[] = []): Promise<any[]> => {
    const data = marketInterface.encodeFunctionData(fn, args)
    const ret = await conn.call<string>('eth_call', [{ to: MARKET_ADDRESS, data }, 'latest'])
    return [...marketInterface.decodeFunctionResult(fn, ret)]
  }
  const simulate: Market['simulate'] = async (fn, args, opts = {}) => {
    const data = marketInterface.encodeFunctionData(fn, args)
    const from = opts.from ?? (conn.signer ? await conn.signer.getAddress() : undefined)
    const call: Record<string, string> = { to: MARKET_ADDRESS, data }
    if (from) call.from = from
    if (opts.value) call.value = `0x${opts.value.toString(16)}`
    const res = await rawCall(conn.url, call)
    if (res.error)
      throw new TransactionFailedError(
        `${opts.what ?? `InferenceMarket.${fn}`} would revert: ${revertText(res.error.message, res.error.data)}`,
      )
    return [...marketInterface.decodeFunctionResult(fn, res.result ?? '0x')]
  }
  return {
    conn,
    async request(id) {
      const [r] = await view('getRequest', [id])
      return {
        id,
        requester: r.requester,
        modelId: r.modelId,
        callback: r.callback,
        maxFee: r.maxFee,
        inputsHash: r.inputsHash,
        requestedAt: Number(r.requestedAt),
        status: REQUEST_STATUS[Number(r.status)] ?? 'none',
        executor: r.executor,
        outputHash: r.outputHash,
        claimedAt: Number(r.claimedAt),
        verified: r.verified,
      }
    },
    async executor(address) {
      const [e] = await view('getExecutor', [address])
      return {
        stake: e.stake,
        price: e.price,
        provider: e.provider,
        claims: Number(e.claims),
        openClaims: Number(e.openClaims),
        slashed: Number(e.slashed),
        active: e.active,
      }
    },
    async tolerance(modelId) {
      const [t] = await view('getTolerance', [modelId])
      return { maxUlp: Number(t.maxUlp), maxAbsE9: t.maxAbsE9, sameArgmax: t.sameArgmax, set: t.set }
    },
    challengeWindow: async () => Number((await view('challengeWindow'))[0]),
    challengeBond: async () => (await view('challengeBond'))[0] as bigint,
    minStake: async () => (await view('minStake'))[0] as bigint,
    requestCount: async () => (await view('requestCount'))[0] as bigint,
    credit: async (address) => (await view('credit', [address]))[0] as bigint,
    simulate,
    async send(fn, args, opts) {
      // a revert reason from eth_call is clearer than a failed receipt, and costs no gas
      await simulate(fn, args, { value: opts.value, what: opts.what })
      const data = marketInterface.encodeFunctionData(fn, args)
      const receipt = await sendAndWait(
        conn,
        { to: MARKET_ADDRESS, data, value: opts.value ?? 0n, gasLimit: opts.gasLimit },
        opts.what,
      ).catch(async (err) => {
        if (err instanceof TransactionFailedError) throw err
        throw new TransactionFailedError(`${opts.what} failed: ${await revertReason(err)}`, { cause: err })
      })
      return { receipt, events: receiptEvents(receipt) }
    },
    async events(name, from, to, topics = []) {
      if (to < from) return []
      const ev = marketInterface.getEvent(name)
      if (!ev) return []
      const out: MarketEvent[] = []
      // bounded ranges: a long chain's history in one eth_getLogs could be a very large answer
      for (let lo = from; lo <= to; lo += LOG_RANGE) {
        const hi = Math.min(to, lo + LOG_RANGE - 1)
        const logs = await conn.call<RawLog[]>('eth_getLogs', [
          {
            address: MARKET_ADDRESS,
            fromBlock: `0x${lo.toString(16)}`,
            toBlock: `0x${hi.toString(16)}`,
            topics: [ev.topicHash, ...topics],
          },
        ])
        for (const l of logs) {
          const parsed = marketInterface.parseLog({ topics: l.topics, data: l.data })
          if (parsed)
            out.push({
              name: parsed.name,
              args: parsed.args,
              blockNumber: Number(l.blockNumber),
              txHash: l.transactionHash,
              logIndex: Number(l.logIndex),
            })
        }
      }
      return out
    },
  }
}

const LOG_RANGE = 10_000

interface RawLog {
  topics: string[]
  data: string
  blockNumber: string
  transactionHash: string
  logIndex: string
}

/** The market's events in a receipt. */
export function receiptEvents(receipt: TransactionReceipt): MarketEvent[] {
  const out: MarketEvent[] = []
  for (const l of receipt.logs) {
    if (l.address.toLowerCase() !== MARKET_ADDRESS.toLowerCase()) continue
    const parsed = marketInterface.parseLog({ topics: [...l.topics], data: l.data })
    if (parsed)
      out.push({
        name: parsed.name,
        args: parsed.args,
        blockNumber: receipt.blockNumber,
        txHash: receipt.hash,
        logIndex: l.index,
      })
  }
  return out
}

/** A uint256 as an indexed topic. */
export function uintTopic(v: bigint): string {
  return `0x${v.toString(16).padStart(64, '0')}`
}

/** An address as an indexed topic. */
export function addressTopic(a: string): string {
  return `0x${a.toLowerCase().replace(/^0x/, '').padStart(64, '0')}`
}

/** eth_call keeping the error's revert data (the model client's rpcCall keeps only its message). */
async function rawCall(
  url: string,
  call: Record<string, string>,
): Promise<{ result?: string; error?: { message: string; data?: string } }> {
  const { rpcCall } = await import('../model-client.ts')
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [call, 'latest'] }),
  }).catch(() => undefined)
  // unreachable node: let rpcCall say so in its words
  if (!res) return { result: await rpcCall<string>(url, 'eth_call', [call, 'latest']) }
  return (await res.json()) as { result?: string; error?: { message: string; data?: string } }
}

/** A revert as `ErrorName(args)` when the data is one of the market's custom errors, else the node's message. */
export function revertText(message: string, data: unknown): string {
  if (typeof data === 'string' && data.length >= 10) {
    try {
      const e = marketInterface.parseError(data)
      if (e) return `${e.name}(${e.args.map((a) => String(a)).join(', ')})`
    } catch {}
  }
  return message
}

/**
 * The consensus runtime's outputs for a request: an eth_call of the precompile's infer through the node (which
 * runs consensus inference). Without `from`: an eth_call may not come from the market (EIP-3607, it has code),
 * and the outputs do not depend on the caller.
 */
export async function consensusOutputs(
  conn: NodeConnection,
  modelId: string,
  inputs: readonly Tensor[],
): Promise<Tensor[]> {
  const iface = new Interface(INFERENCE_ABI)
  const data = iface.encodeFunctionData('infer', [modelId, abiTensors(inputs)])
  const ret = await conn.call<string>('eth_call', [{ to: INFERENCE_ADDRESS, data }, 'latest'])
  return tensorsOfAbi(iface.decodeFunctionResult('infer', ret)[0])
}
