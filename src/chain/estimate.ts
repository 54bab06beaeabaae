import type { Block } from '@ethereumjs/block'
import type { AccessList } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { bytesToHex, setLengthLeft, toBytes } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'
import type { CallRequest } from './calls.ts'
import { callGasCap, executeCall, throwOnFailure } from './calls.ts'
import type { Chain } from './chain.ts'
import { TX_GAS_CAP } from './chain.ts'
import { ExecutionFailedError } from './errors.ts'
import { withInferenceMemo } from './estimate-memo.ts'
import type { StateOverride } from './overrides.ts'

/** ethereumjs's refusal of a gas limit below the intrinsic cost (runTx). */
const INTRINSIC_TOO_LOW = /INTRINSIC_GAS_TOO_LOW|lower than the minimum gas limit/

/**
 * eth_estimateGas: the least gas limit with which the call succeeds (within geth's 1.5%). The executions
 * share their inferences: each distinct one runs once (src/chain/estimate-memo.ts), the precompile's static
 * gas is charged at every step.
 */
export function estimateGas(
  chain: Chain,
  req: CallRequest,
  block: Block,
  overrides?: Map<string, StateOverride>,
): Promise<bigint> {
  return withInferenceMemo(() => search(chain, req, block, overrides))
}

async function search(
  chain: Chain,
  req: CallRequest,
  block: Block,
  overrides: Map<string, StateOverride> | undefined,
): Promise<bigint> {
  const execute = (gas: bigint) => executeCall(chain, { ...req, gas }, block, overrides)
  // Only a failure of the execution at that gas (a halt: out of gas, revert; or a limit under the intrinsic
  // cost) means "more gas". Anything thrown otherwise is the node's own failure (model unavailable, an open
  // checkpoint, a store error) and must reach the caller, not turn into a wrong estimate.
  const succeeds = async (gas: bigint): Promise<boolean> => {
    try {
      return !(await execute(gas)).execResult.exceptionError
    } catch (err) {
      if (err instanceof ExecutionFailedError && INTRINSIC_TOO_LOW.test(err.message)) return false
      throw err
    }
  }
  // a transaction cannot carry more than EIP-7825's cap, whatever gas the request names (2^64-1 from many tools)
  const asked = req.gas ?? callGasCap(block)
  const cap = asked < TX_GAS_CAP ? asked : TX_GAS_CAP
  // geth: a plain value transfer to an account without code costs exactly 21000
  // (not with EIP-7702 authorizations: each adds intrinsic gas)
  if (
    req.to &&
    (req.data === undefined || req.data.length === 0) &&
    !req.authorizationList &&
    !overrides?.has(req.to.toString())
  ) {
    const code = await codeAt(chain, req.to, block)
    if (code.length === 0 && cap >= 21000n) {
      const r = await execute(cap)
      throwOnFailure(r)
      return 21000n
    }
  }
  const first = await execute(cap)
  throwOnFailure(first)
  const used = first.totalGasSpent
  // the gas used is the answer whenever it suffices (no 63/64 reserve or refund in play, e.g. a direct
  // inference call): then the estimate is exactly what the transaction will use
  if (used < cap) {
    if (await succeeds(used)) return used
  }
  // geth: try the optimistic bound first, then binary search
  let lo = used - 1n
  let hi = cap
  const optimistic = ((used + (first.gasRefund ?? 0n) + 2300n) * 64n) / 63n
  if (optimistic < hi) {
    if (await succeeds(optimistic)) hi = optimistic
    else lo = optimistic
  }
  while (lo + 1n < hi) {
    if ((hi - lo) * 1000n < hi * 15n) break
    const mid = (hi + lo) / 2n
    if (await succeeds(mid)) hi = mid
    else lo = mid
  }
  return hi
}

async function codeAt(chain: Chain, addr: Address, block: Block): Promise<Uint8Array> {
  if (block === chain.head) return chain.exclusive(() => chain.stateManager.getCode(addr))
  return (await chain.stateAt(block)).getCode(addr)
}

/**
 * eth_createAccessList: the storage slots and addresses a call touches, and its gas with that list.
 * `coinbase` is left out of the list, as geth does.
 */
export async function createAccessList(
  chain: Chain,
  coinbase: Address,
  req: CallRequest,
  block: Block,
): Promise<{ accessList: AccessList; gasUsed: bigint; error?: string }> {
  const exclude = new Set<string>()
  if (req.from) exclude.add(req.from.toString())
  if (req.to) exclude.add(req.to.toString())
  exclude.add(coinbase.toString())
  for (let i = 1; i <= 0x11; i++) exclude.add(bytesToHex(setLengthLeft(toBytes(i), 20)))
  let list: AccessList = req.accessList ?? []
  let result: RunTxResult | undefined
  for (let i = 0; i < 5; i++) {
    result = await executeCall(chain, { ...req, accessList: list }, block, undefined, { reportAccessList: true })
    // as geth: sender, recipient and precompiles are listed only for the storage slots they touch
    const next = (result.accessList ?? []).filter(
      (e) => e.storageKeys.length > 0 || !exclude.has(e.address.toLowerCase()),
    )
    if (JSON.stringify(next) === JSON.stringify(list)) break
    list = next
  }
  const r = result!
  const err = r.execResult.exceptionError
  return {
    accessList: list,
    gasUsed: r.totalGasSpent,
    error: err ? (err.error === 'revert' ? 'execution reverted' : err.error) : undefined,
  }
}
