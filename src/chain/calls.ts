import type { Block } from '@ethereumjs/block'
import { createBlock } from '@ethereumjs/block'
import type { AccessList, TypedTransaction, TypedTxData } from '@ethereumjs/tx'
import { createTx } from '@ethereumjs/tx'
import type { Address, EOACode7702AuthorizationListItem } from '@ethereumjs/util'
import { bytesToHex, createZeroAddress } from '@ethereumjs/util'
import type { RunTxResult, VM } from '@ethereumjs/vm'
import { runTx } from '@ethereumjs/vm'
import { LatticeError } from '../errors.ts'
import type { CallLimits } from './call-limits.ts'
import { callGasLimit, currentCallLimits, withCallVm } from './call-limits.ts'
import { memoiseCallReads } from './call-reads.ts'
import type { Chain } from './chain.ts'
import { CALL_TX, TX_GAS_CAP } from './chain.ts'
import { assertCheckpointDepth } from './checkpoints.ts'
import { shortEjsMessage } from './ejs-message.ts'
import { ExecutionFailedError, ExecutionRevertedError, MissingStateError, txErrors } from './errors.ts'
import { stateRootOf } from './head-state.ts'
import type { StateOverride } from './overrides.ts'
import { applyAccountOverrides } from './overrides.ts'
import { decodeRevertReason } from './revert.ts'

/** A call as eth_call / eth_estimateGas receive it, already decoded from hex. */
export interface CallRequest {
  from?: Address
  to?: Address
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  data?: Uint8Array
  nonce?: bigint
  accessList?: AccessList
  /** EIP-7702: the call runs as a type-4 transaction with these authorizations (their intrinsic gas counts). */
  authorizationList?: EOACode7702AuthorizationListItem[]
}

/** Options for {@link executeCall}. */
export interface ExecuteOpts {
  /** Ask ethereumjs for the access list the call touched (eth_createAccessList). */
  reportAccessList?: boolean
  /** The RPC request's limits when its handler hands them down (default: the request's context, if any). */
  limits?: CallLimits
}

/**
 * Execute a call against the post-state of `block` without changing anything.
 * Reverts throw ExecutionRevertedError, other failures ExecutionFailedError.
 */
export async function call(
  chain: Chain,
  req: CallRequest,
  block: Block,
  overrides?: Map<string, StateOverride>,
): Promise<RunTxResult> {
  const result = await executeCall(chain, req, block, overrides)
  throwOnFailure(result)
  return result
}

/** Run `req` on the state of `block`; the state is always rolled back. */
export async function executeCall(
  chain: Chain,
  req: CallRequest,
  block: Block,
  overrides?: Map<string, StateOverride>,
  opts: ExecuteOpts = {},
): Promise<RunTxResult> {
  const isHead = block.hash().every((b, i) => b === chain.head.hash()[i])
  const limits = opts.limits ?? currentCallLimits()
  const run = async (vm: VM) => {
    const sm = vm.stateManager
    await sm.checkpoint()
    try {
      if (overrides) await applyAccountOverrides(vm.stateManager, overrides)
      await checkCallFunds(vm, req)
      const tx = await callTx(chain, req, block, vm, limits)
      return await runCallTx(vm, tx, req, block, opts.reportAccessList)
    } catch (err) {
      if (err instanceof LatticeError) throw err
      throw new ExecutionFailedError(shortEjsMessage(err))
    } finally {
      await sm.revert()
      // the head VM is the chain's own: a checkpoint left open there would stop every later flush
      await assertCheckpointDepth(
        vm,
        'a call (eth_call, eth_estimateGas)',
        0,
        isHead ? stateRootOf(chain, block) : undefined,
      )
    }
  }
  if (limits) {
    // an RPC request runs on its own VM, outside the chain lock, and halts at its deadline (call-limits.ts)
    const result = await withCallVm(
      chain,
      block,
      limits,
      async () => memoiseCallReads(chain, await chain.vmAt(block)),
      run,
      (vm) => repositionCallVm(chain, vm, block),
    )
    limits.throwIfHalted()
    return result
  }
  if (isHead) return chain.exclusive(() => run(chain.vm))
  return run(await chain.vmAt(block))
}

/**
 * Move an idle call VM to the post-state of `block` (cheaper than `chain.vmAt`: no state manager, Common, EVM
 * and VM to build). False when its fork differs from the one `block` runs under: its Common stays as it was.
 */
export async function repositionCallVm(chain: Chain, vm: VM, block: Block): Promise<boolean> {
  const fork = vm.common.getHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp })
  if (fork !== vm.common.hardfork()) return false
  const root = stateRootOf(chain, block)
  if (!(await vm.stateManager.hasStateRoot(root))) throw new MissingStateError(block.header.number)
  // clears the state manager's caches and storage tries; the trie-read memo is keyed by root (call-reads.ts)
  await vm.stateManager.setStateRoot(root)
  return true
}

/**
 * An unsigned transaction for `req` that ethereumjs runs as if `from` had signed it; its gas is capped by
 * `limits` (default: the request's context).
 */
export async function callTx(
  chain: Chain,
  req: CallRequest,
  block: Block,
  vm: VM,
  limits: CallLimits | undefined = currentCallLimits(),
): Promise<TypedTransaction> {
  const from = req.from ?? createZeroAddress()
  const noFee = req.gasPrice === undefined && req.maxFeePerGas === undefined && req.maxPriorityFeePerGas === undefined
  const baseFee = noFee ? 0n : (block.header.baseFeePerGas ?? 0n)
  const gasLimit = callGasLimit(req.gas ?? callGasCap(block), limits)
  const nonce = req.nonce ?? (await vm.stateManager.getAccount(from))?.nonce ?? 0n
  const common = vm.common
  const base = {
    nonce,
    gasLimit: gasLimit < TX_GAS_CAP ? gasLimit : TX_GAS_CAP,
    to: req.to,
    value: req.value ?? 0n,
    data: req.data ?? new Uint8Array(),
  }
  const fee =
    req.gasPrice !== undefined && !req.authorizationList
      ? { type: req.accessList ? 1 : 0, gasPrice: req.gasPrice < baseFee ? baseFee : req.gasPrice }
      : {
          type: req.authorizationList ? 4 : 2,
          maxFeePerGas: req.maxFeePerGas ?? req.gasPrice ?? baseFee,
          maxPriorityFeePerGas: req.maxPriorityFeePerGas ?? 0n,
        }
  if (fee.type >= 2 && (fee.maxFeePerGas as bigint) < baseFee) fee.maxFeePerGas = baseFee
  // a frozen call transaction is only read, so the same call (a view polled at one nonce) reuses it
  const key = callTxKey(from, base, fee, gasLimit, req)
  const byKey = key === undefined ? undefined : madeTxs(common)
  const known = key === undefined ? undefined : byKey?.get(key)
  if (known) return known
  const tx = createTx(
    // the type field picks the transaction class; only type 4 reads authorizationList
    {
      ...base,
      ...fee,
      accessList: req.accessList,
      authorizationList: req.authorizationList,
      chainId: chain.chainId,
    } as TypedTxData,
    { common, freeze: false },
  )
  // impersonate the sender: calls are unsigned
  ;(tx as { getSenderAddress: () => Address }).getSenderAddress = () => from
  ;(tx as { isSigned: () => boolean }).isSigned = () => true
  ;(tx as unknown as Record<symbol, boolean>)[CALL_TX] = true
  // a call is not a transaction: as geth and anvil, it may use up to --rpc.gascap, past EIP-7825's
  // per-transaction cap (which ethereumjs checks only when the transaction is built)
  if (gasLimit > TX_GAS_CAP) (tx as { gasLimit: bigint }).gasLimit = gasLimit
  // frozen, ethereumjs caches per-transaction figures (the data gas loops over every calldata byte)
  Object.freeze(tx)
  if (key !== undefined && byKey) {
    byKey.set(key, tx)
    for (const k of byKey.keys()) {
      if (byKey.size <= CALL_TXS_PER_COMMON) break
      byKey.delete(k)
    }
  }
  return tx
}

/** Call transactions kept per Common (a call VM's): a test suite's views at one head. */
const CALL_TXS_PER_COMMON = 256
/** Calldata above this is not keyed (its hex would cost about what building the transaction does). */
const CALL_TX_KEY_MAX_DATA = 4096
const callTxs = new WeakMap<object, Map<string, TypedTransaction>>()

function madeTxs(common: object): Map<string, TypedTransaction> {
  let m = callTxs.get(common)
  if (!m) {
    m = new Map()
    callTxs.set(common, m)
  }
  return m
}

/**
 * What decides a call transaction's fields (its Common aside: kept per Common, which fixes the chain and fork).
 * Undefined (not kept) with an access or authorization list, or long calldata. `createTx` costs ~0.1 ms (it copies
 * the Common, converts and checks every field).
 */
function callTxKey(
  from: Address,
  base: { nonce: bigint; gasLimit: bigint; to?: Address; value: bigint; data: Uint8Array },
  fee: Record<string, unknown>,
  gasLimit: bigint,
  req: CallRequest,
): string | undefined {
  if (req.accessList || req.authorizationList || base.data.length > CALL_TX_KEY_MAX_DATA) return undefined
  const fees = `${fee.type}:${fee.gasPrice ?? ''}:${fee.maxFeePerGas ?? ''}:${fee.maxPriorityFeePerGas ?? ''}`
  return `${from}|${base.to ?? ''}|${base.nonce}|${gasLimit}|${base.value}|${fees}|${bytesToHex(base.data)}`
}

/** The gas a call gets when it names none: the block's gas limit, at most the per-transaction cap. */
export function callGasCap(block: Block): bigint {
  const limit = block.header.gasLimit
  return limit < TX_GAS_CAP ? limit : TX_GAS_CAP
}

const callBlocks = new WeakMap<Block, Map<string, Block>>()

/**
 * The block context for calls on `block`: the same header, so NUMBER/TIMESTAMP match geth (memoised:
 * building a Block costs about a millisecond in ethereumjs).
 */
export function callBlock(block: Block, vm: VM, noBaseFee = false): Block {
  let byKey = callBlocks.get(block)
  if (!byKey) {
    byKey = new Map()
    callBlocks.set(block, byKey)
  }
  const key = `${noBaseFee}:${vm.common.hardfork()}`
  const hit = byKey.get(key)
  if (hit) return hit
  const header = block.header.toJSON()
  if (noBaseFee && header.baseFeePerGas !== undefined) header.baseFeePerGas = '0x0'
  const made = createBlock({ header }, { common: vm.common, skipConsensusFormatValidation: true })
  byKey.set(key, made)
  return made
}

/**
 * Like anvil and geth: a call that sends value needs a sender that has it (plus gas × price when both are
 * named), else a priced model would run for a sender that cannot pay its price.
 */
async function checkCallFunds(vm: VM, req: CallRequest): Promise<void> {
  const value = req.value ?? 0n
  if (value === 0n) return
  const from = req.from ?? createZeroAddress()
  const price = req.gasPrice ?? req.maxFeePerGas ?? 0n
  const want = value + (req.gas !== undefined ? req.gas * price : 0n)
  const have = (await vm.stateManager.getAccount(from))?.balance ?? 0n
  if (have < want) throw txErrors.insufficientFunds(from.toString(), have, want)
}

/** Turn a failed execution into ExecutionRevertedError (with its data) or ExecutionFailedError. */
export function throwOnFailure(result: RunTxResult): void {
  const err = result.execResult.exceptionError
  if (!err) return
  if (err.error === 'revert') {
    const data = result.execResult.returnValue
    throw new ExecutionRevertedError(decodeRevertReason(data), bytesToHex(data))
  }
  throw new ExecutionFailedError(err.error)
}

/**
 * Run a call's transaction as eth_call does: no balance, nonce, block gas limit or fork checks, and geth's
 * NoBaseFee (a call that names no fee runs with a zero base fee, so BASEFEE reads 0). Shared with debug_traceCall.
 */
export function runCallTx(
  vm: VM,
  tx: TypedTransaction,
  req: CallRequest,
  block: Block,
  reportAccessList?: boolean,
): Promise<RunTxResult> {
  const noFee = req.gasPrice === undefined && req.maxFeePerGas === undefined && req.maxPriorityFeePerGas === undefined
  return runTx(vm, {
    tx,
    block: callBlock(block, vm, noFee),
    skipBalance: true,
    skipNonce: true,
    skipBlockGasLimitValidation: true,
    skipHardForkValidation: true,
    reportAccessList,
  })
}
