import type { Block } from '@ethereumjs/block'
import { createBlock } from '@ethereumjs/block'
import type { EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { RLP } from '@ethereumjs/rlp'
import type { AccessList, TypedTransaction } from '@ethereumjs/tx'
import { createTx } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { bytesToHex, createAddressFromString, equalsBytes, KECCAK256_NULL } from '@ethereumjs/util'
import type { RunTxResult, VM } from '@ethereumjs/vm'
import { buildBlock, runTx } from '@ethereumjs/vm'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import type { Chain } from './chain.ts'
import { assertCheckpointDepth } from './checkpoints.ts'
import { ProtectedOverrideError, SimulateError } from './errors.ts'
import { applyInferenceRoot } from './inference-roots.ts'
import type { StateOverride } from './overrides.ts'
import { applyAccountOverrides } from './overrides.ts'
import { decodeRevertReason } from './revert.ts'
import { sandboxVM } from './sandbox.ts'
import { SimCode, txError } from './simulate-errors.ts'
import type { SimLog } from './simulate-logs.ts'
import { LogCollector } from './simulate-logs.ts'

export { SimCode } from './simulate-errors.ts'
export type { SimLog } from './simulate-logs.ts'

/** One call of a simulated block (eth_simulateV1's TransactionArgs, decoded). */
export interface SimCall {
  from?: Address
  to?: Address
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  maxFeePerBlobGas?: bigint
  blobVersionedHashes?: string[]
  value?: bigint
  data?: Uint8Array
  nonce?: bigint
  accessList?: AccessList
}

export interface SimBlockOverrides {
  number?: bigint
  time?: bigint
  gasLimit?: bigint
  feeRecipient?: Address
  prevRandao?: Uint8Array
  baseFeePerGas?: bigint
  blobBaseFee?: bigint
  beaconRoot?: Uint8Array
}

export interface SimAccountOverride extends StateOverride {
  movePrecompileToAddress?: Address
}

export interface SimBlockSpec {
  blockOverrides?: SimBlockOverrides
  stateOverrides?: Map<string, SimAccountOverride>
  calls: SimCall[]
}

export interface SimulateOpts {
  blocks: SimBlockSpec[]
  /** Check nonces, balances and fees like a real block (default false). */
  validation?: boolean
  /** Report ETH transfers as ERC-20-style logs from 0xeeee...eeee. */
  traceTransfers?: boolean
  /** Gas available to the whole simulation (geth's RPC gas cap, 50M). */
  gasCap?: bigint
}

export interface SimCallResult {
  returnData: Uint8Array
  logs: SimLog[]
  gasUsed: bigint
  maxUsedGas: bigint
  status: 0 | 1
  error?: { message: string; code: number; data?: string }
}

export interface SimBlockResult {
  block: Block
  calls: SimCallResult[]
  senders: Address[]
  /** The calls as transactions, with their senders attached (the block's own copies are unsigned). */
  txs: TypedTransaction[]
  /** Encoded size of the block with `txs` (the block object may hold stand-ins, see below). */
  size: number
}

/** geth's cap on simulated blocks per request. */
export const MAX_SIMULATE_BLOCKS = 256
/**
 * Most bytes of return data and log data one eth_simulateV1 request may hold (docs/rpc.md): every call's
 * result is kept, and an inference call may return up to 32 MiB, so the gas pool alone does not bound memory.
 */
export const MAX_SIMULATE_RESULT_BYTES = 64 * 1024 * 1024
const TIMESTAMP_INCREMENT = 12n

/** Fill in block numbers and timestamps (and gap blocks) as geth's sanitizeChain does. */
function sanitizeChain(base: Block, blocks: SimBlockSpec[]): SimBlockSpec[] {
  const out: SimBlockSpec[] = []
  let prevNumber = base.header.number
  let prevTime = base.header.timestamp
  for (const b of blocks) {
    const o: SimBlockOverrides = { ...b.blockOverrides }
    const number = o.number ?? prevNumber + 1n
    if (number <= prevNumber) {
      throw new SimulateError(SimCode.blockNumberOrder, `block numbers must be in order: ${number} <= ${prevNumber}`)
    }
    if (number - base.header.number > BigInt(MAX_SIMULATE_BLOCKS)) {
      throw new SimulateError(SimCode.tooManyBlocks, 'too many blocks')
    }
    for (let n = prevNumber + 1n; n < number; n++) {
      prevTime += TIMESTAMP_INCREMENT
      out.push({ blockOverrides: { number: n, time: prevTime }, calls: [] })
    }
    prevNumber = number
    let t: bigint
    if (o.time === undefined) t = prevTime + TIMESTAMP_INCREMENT
    else {
      t = o.time
      if (t <= prevTime) {
        throw new SimulateError(SimCode.blockTimestampOrder, `block timestamps must be in order: ${t} <= ${prevTime}`)
      }
    }
    prevTime = t
    out.push({ ...b, blockOverrides: { ...o, number, time: t } })
  }
  return out
}

const INFERENCE = INFERENCE_PRECOMPILE_ADDRESS.toLowerCase()
const REGISTRY = MODEL_REGISTRY_ADDRESS.toLowerCase()

/** Apply per-account overrides, moving precompiles first (geth's StateOverride.Apply). */
async function applyOverrides(vm: VM, overrides: Map<string, SimAccountOverride>): Promise<void> {
  const sm = vm.stateManager
  // moves change which code runs where, not the warm set: geth warms the fork's own precompile
  // addresses, so `evm.precompiles` stays as it is and only the lookup is redirected
  const precompiles = new Map(vm.evm.precompiles as Map<string, unknown>)
  const evm = vm.evm as unknown as { getPrecompile: (a: Address | string) => unknown }
  evm.getPrecompile = (a: Address | string) =>
    precompiles.get(typeof a === 'string' ? a.slice(2).padStart(40, '0').toLowerCase() : a.toString().slice(2))
  const moved = new Set<string>()
  for (const [addrHex, o] of overrides) {
    if (!o.movePrecompileToAddress) continue
    const key = addrHex.slice(2).toLowerCase()
    const dest0 = o.movePrecompileToAddress.toString().toLowerCase()
    if (`0x${key}` === INFERENCE || dest0 === INFERENCE || dest0 === REGISTRY) {
      // the inference precompile reads its access rules from ModelRegistry: neither may be displaced
      throw new ProtectedOverrideError(
        addrHex,
        `movePrecompileToAddress may not move the inference precompile or onto ${dest0}`,
      )
    }
    const fn = precompiles.get(key)
    if (!fn) throw new SimulateError(SimCode.server, `account ${addrHex} is not a precompile`)
    const dest = o.movePrecompileToAddress.toString().slice(2)
    if (dest === key) {
      throw new SimulateError(SimCode.precompileSelfRef, `account ${addrHex} is already at the destination`)
    }
    moved.add(dest)
    precompiles.delete(key)
    precompiles.set(dest, fn)
  }
  // like geth, touch only what the override sets (a bare move creates no account)
  await applyAccountOverrides(sm, overrides)
}

/**
 * Run eth_simulateV1 on top of `base`: a chain of blocks with overrides and calls, built on a
 * sandbox VM (nothing is written). Mirrors geth's simulator.
 */
export async function simulate(chain: Chain, base: Block, opts: SimulateOpts): Promise<SimBlockResult[]> {
  if (opts.blocks.length > MAX_SIMULATE_BLOCKS) throw new SimulateError(SimCode.tooManyBlocks, 'too many blocks')
  const blocks = sanitizeChain(base, opts.blocks)
  const validate = opts.validation === true
  let gasPool = opts.gasCap ?? 50_000_000n
  const simulated = new Map<bigint, Block>()
  // BLOCKHASH must see the simulated blocks too
  const blockchain = new Proxy(chain.blockchain, {
    get(target, prop, receiver) {
      if (prop === 'getBlock') {
        return async (id: bigint | number | Uint8Array) => {
          if (typeof id === 'number' || typeof id === 'bigint') {
            const b = simulated.get(BigInt(id))
            if (b) return b
          }
          return target.getBlock(id as Uint8Array)
        }
      }
      const v = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const common = chain.common.copy()
  // geth's simulator gives calls the whole remaining gas, above the EIP-7825 cap; ethereumjs checks
  // the cap only when a transaction object is built, so switch it off for this sandbox
  const isActivated = common.isActivatedEIP.bind(common)
  // and, like geth's simulator, let contracts send calls (no EIP-3607 sender check)
  common.isActivatedEIP = (eip: number) => (eip === 7825 || eip === 3607 ? false : isActivated(eip))
  common.setHardforkBy({ blockNumber: base.header.number, timestamp: base.header.timestamp })
  const vm = await sandboxVM(chain, base, common, blockchain)
  const results: SimBlockResult[] = []
  let resultBytes = 0
  let parent = base
  let header = {
    coinbase: base.header.coinbase,
    difficulty: base.header.difficulty,
    gasLimit: base.header.gasLimit,
  }
  for (const spec of blocks) {
    const o = spec.blockOverrides ?? {}
    const number = o.number!
    const timestamp = o.time!
    vm.common.setHardforkBy({ blockNumber: number, timestamp })
    const london = vm.common.isActivatedEIP(1559)
    const cancun = vm.common.isActivatedEIP(4844)
    header = {
      coinbase: o.feeRecipient ?? header.coinbase,
      difficulty: header.difficulty,
      gasLimit: o.gasLimit ?? header.gasLimit,
    }
    let baseFee: bigint | undefined
    if (london) baseFee = o.baseFeePerGas ?? (validate ? parent.header.calcNextBaseFee() : 0n)
    const builder = await buildBlock(vm, {
      parentBlock: parent,
      headerData: {
        number,
        timestamp,
        gasLimit: header.gasLimit,
        coinbase: header.coinbase,
        difficulty: header.difficulty,
        mixHash: o.prevRandao ?? new Uint8Array(32),
        baseFeePerGas: baseFee,
        excessBlobGas: cancun
          ? parent.common.isActivatedEIP(4844)
            ? parent.header.calcNextExcessBlobGas(vm.common)
            : 0n
          : undefined,
        parentBeaconBlockRoot: cancun ? (o.beaconRoot ?? new Uint8Array(32)) : undefined,
        extraData: new Uint8Array(),
        nonce: new Uint8Array(8),
      },
      withdrawals: vm.common.isActivatedEIP(4895) ? [] : undefined,
      blockOpts: { putBlockIntoBlockchain: false, common: vm.common, skipConsensusFormatValidation: true },
    })
    // the inference-root system call of a Lattice block (docs/proofs.md); simulated parents have no records
    await applyInferenceRoot(vm, parent.header.number, await chain.inferenceRootOf(parent))
    // precompile moves last for one block only (geth starts each block from the fork's set)
    delete (vm.evm as unknown as { getPrecompile?: unknown }).getPrecompile
    if (spec.stateOverrides) await applyOverrides(vm, spec.stateOverrides)
    const b = builder as unknown as {
      headerData: Record<string, unknown>
      transactions: TypedTransaction[]
      transactionResults: RunTxResult[]
      gasUsed: bigint
      blobGasUsed: bigint
      checkpointed: boolean
    }
    const calls: SimCallResult[] = []
    const senders: Address[] = []
    const logCounter = { n: 0 }
    for (const call of spec.calls) {
      const from = call.from ?? createAddressFromString(`0x${'00'.repeat(20)}`)
      const nonce = call.nonce ?? (await vm.stateManager.getAccount(from))?.nonce ?? 0n
      const remaining = header.gasLimit - b.gasUsed
      let gas = call.gas ?? remaining
      if (b.gasUsed + gas > header.gasLimit) {
        throw new SimulateError(SimCode.gasLimitReached, `block gas limit reached: ${b.gasUsed} >= ${header.gasLimit}`)
      }
      if (gas > gasPool) gas = gasPool
      if (validate && nonce >= MAX_NONCE) {
        throw new SimulateError(SimCode.internal, `err: nonce has max value: address ${from}, nonce: ${nonce}`)
      }
      const tx = makeTx(vm, call, from, nonce, gas, baseFee)
      const collector = new LogCollector(opts.traceTransfers === true, logCounter)
      const onEnter = (m: Message) => collector.enter(m)
      const onExit = (r: EVMResult) => collector.exit(r)
      const onStep = (s: InterpreterStep, resolve?: (r?: unknown) => void) => {
        collector.step(s).then(
          () => resolve?.(),
          () => resolve?.(),
        )
      }
      const events = vm.evm.events!
      events.on('beforeMessage', onEnter)
      events.on('afterMessage', onExit)
      events.on('step', onStep)
      let result: RunTxResult
      let unarm = () => {}
      try {
        if (!b.checkpointed) {
          await vm.evm.journal.checkpoint()
          b.checkpointed = true
        }
        const zeroFees = !validate && feesAreZero(call)
        const runHeader = { ...b.headerData, gasUsed: b.gasUsed, ...(zeroFees && london ? { baseFeePerGas: 0n } : {}) }
        const block = createBlock(
          { header: runHeader },
          { common: vm.common, skipConsensusFormatValidation: true, freeze: false },
        )
        if (o.blobBaseFee !== undefined) {
          // blobBaseFee overrides what blob gas costs in this block (geth's BlockContext.BlobBaseFee)
          const fee = o.blobBaseFee
          ;(block.header as { getBlobGasPrice: () => bigint }).getBlobGasPrice = () => fee
        }
        unarm = await allowContractSender(vm, from)
        result = await runTx(vm, {
          tx,
          block,
          skipNonce: !validate,
          skipHardForkValidation: true,
          skipBlockGasLimitValidation: true,
        })
      } catch (err) {
        throw txError(err, from, tx)
      } finally {
        await assertCheckpointDepth(vm, 'eth_simulateV1 call', b.checkpointed ? 1 : 0)
        unarm()
        events.off('beforeMessage', onEnter)
        events.off('afterMessage', onExit)
        events.off('step', onStep)
      }
      b.transactions.push(tx)
      b.transactionResults.push(result)
      // geth keeps nonces in a uint64: one past 2^64-1 wraps to 0
      const sender = await vm.stateManager.getAccount(from)
      if (sender && sender.nonce > MAX_NONCE) {
        sender.nonce %= MAX_NONCE + 1n
        await vm.stateManager.putAccount(from, sender)
      }
      b.gasUsed += result.totalGasSpent
      gasPool -= result.totalGasSpent
      if ('blobVersionedHashes' in tx) {
        b.blobGasUsed += BigInt((tx.blobVersionedHashes as string[]).length) * vm.common.param('blobGasPerBlob')
      }
      senders.push(from)
      const exec = result.execResult
      const err = exec.exceptionError
      const res: SimCallResult = {
        // geth returns no data for a failed call; revert data goes in error.data
        returnData: err ? new Uint8Array() : exec.returnValue,
        logs: err ? [] : collector.done,
        gasUsed: result.totalGasSpent,
        maxUsedGas: result.totalGasSpent + (result.gasRefund ?? 0n),
        status: err ? 0 : 1,
      }
      if (err) {
        if (err.error === 'revert') {
          const reason = decodeRevertReason(exec.returnValue)
          res.error = {
            message: reason ? `execution reverted: ${reason}` : 'execution reverted',
            code: SimCode.reverted,
            data: bytesToHex(exec.returnValue),
          }
        } else {
          res.error = { message: err.error, code: SimCode.vmError }
        }
      }
      resultBytes += res.returnData.length + res.logs.reduce((n, l) => n + l.data.length + 32 * l.topics.length, 0)
      if (resultBytes > MAX_SIMULATE_RESULT_BYTES) {
        throw new SimulateError(
          SimCode.server,
          `the simulation's return and log data is over the ${MAX_SIMULATE_RESULT_BYTES}-byte limit of one eth_simulateV1 request: simulate fewer calls`,
        )
      }
      calls.push(res)
    }
    const txs = [...b.transactions]
    // ethereumjs re-creates each transaction when it assembles the block and refuses a nonce of
    // 2^64-1 (EIP-2681); geth's simulator allows it outside validation. Hand the assembler a stand-in
    // with the same encoding (so the transactions root is right) and report the real transactions.
    b.transactions = txs.map((tx) => (tx.nonce >= MAX_NONCE ? standIn(vm, tx) : tx))
    const built = await builder.build()
    await assertCheckpointDepth(vm, 'eth_simulateV1 block')
    const block = built.block
    simulated.set(number, block)
    const size = RLP.encode([
      block.header.raw(),
      txs.map((tx) => (tx.type === 0 ? tx.raw() : tx.serialize())),
      block.uncleHeaders.map((h) => h.raw()),
      ...(block.withdrawals ? [block.withdrawals.map((w) => w.raw())] : []),
    ] as never).length
    results.push({ block, calls, senders, txs, size })
    parent = block
  }
  return results
}

/**
 * geth's simulator lets accounts with code send calls (no EIP-3607 check). ethereumjs checks the
 * sender's code hash once, right after reading its account: show that first read an empty code hash.
 */
async function allowContractSender(vm: VM, from: Address): Promise<() => void> {
  const sm = vm.stateManager as unknown as { getAccount: (a: Address) => Promise<unknown> }
  const acct = (await sm.getAccount(from)) as { codeHash: Uint8Array } | undefined
  if (!acct || equalsBytes(acct.codeHash, KECCAK256_NULL)) return () => {}
  const orig = sm.getAccount
  const restore = () => {
    sm.getAccount = orig
  }
  sm.getAccount = async (a: Address) => {
    const got = (await orig.call(sm, a)) as object | undefined
    if (!got || !a.equals(from)) return got
    restore()
    let first = true
    return new Proxy(got, {
      get(t, p, r) {
        if (p === 'codeHash' && first) {
          first = false
          return KECCAK256_NULL
        }
        return Reflect.get(t, p, r)
      },
    })
  }
  return restore
}

const MAX_NONCE = (1n << 64n) - 1n

/** A transaction ethereumjs will accept in a block, encoding as `tx` does. */
function standIn(vm: VM, tx: TypedTransaction): TypedTransaction {
  const data = { ...tx.toJSON(), nonce: '0x0' } as Parameters<typeof createTx>[0]
  const copy = createTx(data, { common: vm.common, freeze: false })
  const encoded = tx.serialize()
  ;(copy as { serialize: () => Uint8Array }).serialize = () => encoded
  return copy
}

function feesAreZero(c: SimCall): boolean {
  return (c.gasPrice ?? 0n) === 0n && (c.maxFeePerGas ?? 0n) === 0n && (c.maxPriorityFeePerGas ?? 0n) === 0n
}

/** The unsigned transaction geth builds from call arguments (type 2 unless blob fields are set). */
function makeTx(
  vm: VM,
  c: SimCall,
  from: Address,
  nonce: bigint,
  gas: bigint,
  baseFee: bigint | undefined,
): TypedTransaction {
  const common = vm.common
  const base = {
    // ethereumjs refuses to construct a nonce of 2^64-1: build with 0, set it after (see standIn)
    nonce: nonce >= MAX_NONCE ? 0n : nonce,
    gasLimit: gas,
    to: c.to,
    value: c.value ?? 0n,
    data: c.data ?? new Uint8Array(),
    chainId: common.chainId(),
    accessList: c.accessList ?? [],
    v: 0n,
    r: 0n,
    s: 0n,
  }
  let tx: TypedTransaction
  if (baseFee === undefined) {
    tx = createTx({ ...base, type: c.accessList ? 1 : 0, gasPrice: c.gasPrice ?? 0n }, { common, freeze: false })
  } else {
    const maxFeePerGas = c.maxFeePerGas ?? c.gasPrice ?? 0n
    const maxPriorityFeePerGas = c.maxPriorityFeePerGas ?? c.gasPrice ?? 0n
    if (c.blobVersionedHashes) {
      tx = createTx(
        {
          ...base,
          type: 3,
          maxFeePerGas,
          maxPriorityFeePerGas,
          maxFeePerBlobGas: c.maxFeePerBlobGas ?? 0n,
          blobVersionedHashes: c.blobVersionedHashes as `0x${string}`[],
        },
        { common, freeze: false },
      )
    } else {
      tx = createTx({ ...base, type: 2, maxFeePerGas, maxPriorityFeePerGas }, { common, freeze: false })
    }
  }
  if (nonce >= MAX_NONCE)
    (tx as { nonce: bigint }).nonce = nonce
    // calls are unsigned: the sender is whoever the caller named
  ;(tx as { getSenderAddress: () => Address }).getSenderAddress = () => from
  ;(tx as { isSigned: () => boolean }).isSigned = () => true
  return tx
}
