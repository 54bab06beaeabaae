import type { EVMInterface } from '@ethereumjs/evm'
import type { Address } from '@ethereumjs/util'
import { bytesToHex } from '@ethereumjs/util'
import type { Tensor } from '../inference/tensor.ts'
import { encodeTensors } from './abi.ts'

/** One successful inference, as kept with its block (the proofs issue builds on these). */
export interface InferenceRecord {
  /** Position of this inference within its transaction. */
  index: number
  modelId: string
  /** keccak256 of the ABI-encoded input tensors. */
  inputHash: string
  /** keccak256 of the ABI-encoded output tensors. */
  outputHash: string
  flops: bigint
  gasUsed: bigint
}

/**
 * An inference before it gets its index, its hashes not taken yet: most records end in an eth_call or an
 * estimate that keeps none, and hashing 100-200 KB of inputs there was wasted work. {@link pendingRecord} encodes
 * when the inference is recorded, which copies them: tensors that may be views of the calling contract's
 * memory (ethereumjs passes CALL input without copying) change after the call returns. {@link ownedRecord}
 * encodes on first read, for tensors nothing changes afterwards.
 */
export interface PendingRecord {
  modelId: string
  /** ABI encoding of the input tensors (what inputHash hashes). */
  inputBytes: Uint8Array
  /** ABI encoding of the output tensors (what outputHash hashes). */
  outputBytes: Uint8Array
  /** The chain's keccak256. */
  keccak256: (data: Uint8Array) => Uint8Array
  flops: bigint
  gasUsed: bigint
}

/** A pending record of one inference (encodes, copying, the tensors now; hashes later, see {@link PendingRecord}). */
export function pendingRecord(
  modelId: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  flops: bigint,
  gasUsed: bigint,
  keccak256: (data: Uint8Array) => Uint8Array,
): PendingRecord {
  return { modelId, inputBytes: encodeTensors(inputs), outputBytes: encodeTensors(outputs), keccak256, flops, gasUsed }
}

/**
 * A pending record of tensors the caller owns and never changes afterwards (the precompile's: its ABI decoder
 * copies inputs out of the calldata and outputs come fresh from the runtime). Nothing is encoded until read: an
 * eth_call or an estimate, whose records are dropped unread, no longer encodes (copies) 100-200 KB of inputs and
 * the outputs a second time; a mined transaction's records encode to the same bytes when the chain hashes them.
 */
export function ownedRecord(
  modelId: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  flops: bigint,
  gasUsed: bigint,
  keccak256: (data: Uint8Array) => Uint8Array,
): PendingRecord {
  let inputBytes: Uint8Array | undefined
  let outputBytes: Uint8Array | undefined
  return {
    modelId,
    get inputBytes() {
      inputBytes ??= encodeTensors(inputs)
      return inputBytes
    },
    get outputBytes() {
      outputBytes ??= encodeTensors(outputs)
      return outputBytes
    },
    keccak256,
    flops,
    gasUsed,
  }
}

/**
 * The record of a pending one at `index`. inputHash and outputHash are getters that hash once, on first read
 * (the chain reads them when it stores a mined transaction's records; a call's records are dropped unread).
 * They are enumerable own properties, so a spread or an equality test sees plain values.
 */
function indexedRecord(index: number, r: PendingRecord): InferenceRecord {
  let inputHash: string | undefined
  let outputHash: string | undefined
  return {
    index,
    modelId: r.modelId,
    get inputHash() {
      inputHash ??= bytesToHex(r.keccak256(r.inputBytes))
      return inputHash
    },
    get outputHash() {
      outputHash ??= bytesToHex(r.keccak256(r.outputBytes))
      return outputHash
    },
    flops: r.flops,
    gasUsed: r.gasUsed,
  }
}

interface Frame {
  caller: Address
  /** The address whose code runs: not the precompile's for a DELEGATECALL or CALLCODE to it. */
  to?: Address
  delegatecall: boolean
  records: PendingRecord[]
}

interface MessageLike {
  caller: Address
  to?: Address
  depth: number
  delegatecall?: boolean
}

interface ResultLike {
  execResult: { exceptionError?: unknown }
}

/**
 * Follows one EVM's call frames so that the precompile knows its immediate caller, and so that records of
 * inferences inside a frame that later reverts are dropped with it. The transaction's surviving records
 * are taken with {@link CallTracker.takeTx} after it ran.
 *
 * It also carries a node-local failure (model bytes not obtainable here) out of the EVM: the precompile
 * never throws (ethereumjs would leave its frame checkpoints open), it marks the failure with
 * {@link CallTracker.markLocalFailure}, and when the top-level message ends this tracker throws it. By then
 * every frame has closed its own checkpoint, so only runTx's checkpoints are open and runTx reverts them:
 * the transaction is refused (block building), the call fails (eth_call) or the import stops.
 */
export class CallTracker {
  private readonly frames: Frame[] = []
  private done: PendingRecord[] = []
  private localFailure?: Error

  constructor(evm: EVMInterface) {
    const events = evm.events!
    events.on('beforeMessage', (msg: MessageLike) => {
      // a new transaction (or a call after one that threw half-way) starts from nothing
      if (msg.depth === 0) {
        this.frames.length = 0
        this.done = []
        this.localFailure = undefined
      }
      this.frames.push({ caller: msg.caller, to: msg.to, delegatecall: msg.delegatecall === true, records: [] })
    })
    events.on('afterMessage', (res: ResultLike) => {
      const frame = this.frames.pop()
      if (!frame) return
      if (this.frames.length === 0 && this.localFailure) {
        // the top-level message is over and its checkpoint closed: safe to unwind from here
        const err = this.localFailure
        this.localFailure = undefined
        this.done = []
        throw err
      }
      if (res.execResult.exceptionError) return
      const parent = this.frames[this.frames.length - 1]
      if (parent) parent.records.push(...frame.records)
      else this.done.push(...frame.records)
    })
  }

  /** The caller of the frame now executing (the precompile's own message). */
  currentCaller(): Address | undefined {
    return this.frames[this.frames.length - 1]?.caller
  }

  /**
   * How the frame now executing reached the precompile at `precompile` (lowercase hex): 'call' when its code
   * address is its own address, otherwise 'delegatecall' or 'callcode' (another contract's context).
   */
  currentCallKind(precompile: string): 'call' | 'delegatecall' | 'callcode' | undefined {
    const f = this.frames[this.frames.length - 1]
    if (!f) return undefined
    if (f.delegatecall) return 'delegatecall'
    if (f.to && f.to.toString().toLowerCase() !== precompile) return 'callcode'
    return 'call'
  }

  /** A failure local to this node (the call cannot be judged here); thrown when the top-level message ends. */
  markLocalFailure(err: Error): void {
    this.localFailure ??= err
  }

  /** Record an inference in the frame now executing. */
  record(r: PendingRecord): void {
    this.frames[this.frames.length - 1]?.records.push(r)
  }

  /** The records of the last top-level message, indexed (hashed when first read); empties the list. */
  takeTx(): InferenceRecord[] {
    const out = this.done.map((r, index) => indexedRecord(index, r))
    this.done = []
    return out
  }

  /** Forget everything (a transaction that threw before finishing). */
  reset(): void {
    this.frames.length = 0
    this.done = []
    this.localFailure = undefined
  }
}
