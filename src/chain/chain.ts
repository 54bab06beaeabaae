import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Block, HeaderData } from '@ethereumjs/block'
import type { Blockchain } from '@ethereumjs/blockchain'
import { createBlockchain } from '@ethereumjs/blockchain'
import type { Common } from '@ethereumjs/common'
import type { EVM, EVMOpts } from '@ethereumjs/evm'
import { createEVM } from '@ethereumjs/evm'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches, CacheType, MerkleStateManager } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address, DB, WithdrawalData } from '@ethereumjs/util'
import { bytesToHex, equalsBytes, ValueEncoding } from '@ethereumjs/util'
import type { RunTxResult, VM } from '@ethereumjs/vm'
import { buildBlock, createVM } from '@ethereumjs/vm'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import { LatticeError } from '../errors.ts'
import type { InferencePrecompile } from '../precompiles/inference.ts'
import type { InferenceRecord } from '../precompiles/records.ts'
import { executeBlock, importBlock } from './block-import.ts'
import { currentCallLimits, guardEvm } from './call-limits.ts'
import { assertCheckpointDepth, unwindCheckpoints } from './checkpoints.ts'
import type { ChainDatabases } from './db.ts'
import { openChainDatabases } from './db.ts'
import { devHeaderFields } from './dev-header.ts'
import { DatadirLockedError, DatadirMismatchError, MissingStateError } from './errors.ts'
import type { ChainSpec } from './genesis.ts'
import { createChainCommon } from './genesis.ts'
import { stateRootOf } from './head-state.ts'
import type { BlockInferenceRecord } from './inference-records.ts'
import { decodeInferenceRecords, encodeInferenceRecords, inferenceRecordsKey } from './inference-records.ts'
import { applyInferenceRoot, blockInferenceRoot } from './inference-roots.ts'
import { Mutex } from './mutex.ts'
import type { StoredReceipt } from './receipts.ts'
import { decodeReceipts, decodeTxLookup, encodeReceipts, encodeTxLookup, metaKeys } from './receipts.ts'
import { putSideBlock } from './side-blocks.ts'
import { boundStateCaches, STORAGE_CACHE_CHECK_EVERY } from './state-cache-bound.ts'
import { storedReceipt, toTxError } from './tx-receipts.ts'
import { WalCommit } from './wal-commit.ts'
import type { WalReplayResult } from './wal-replay.ts'
import { replayWal } from './wal-replay.ts'

export { effectiveGasPrice } from './tx-receipts.ts'

/** Options for {@link Chain.open}. */
export interface ChainOpts {
  /** Node data directory; chain data lives in `<datadir>/chaindata`. */
  datadir: string
  spec: ChainSpec
  /** Extra EVM options (custom precompiles come in here). */
  evmOpts?: Partial<EVMOpts>
  /** The inference precompile; its records are kept with each block. */
  inference?: InferencePrecompile
  /** fdatasync every write-ahead-log append (power-loss durability per block; default false, wal-commit.ts). */
  walFsync?: boolean
}

/** A transaction included in a block, with its receipt and execution result. */
export interface MinedTx {
  tx: TypedTransaction
  receipt: StoredReceipt
  result: RunTxResult
}

export interface MinedBlock extends BuiltBlock {
  receipts: StoredReceipt[]
}

/** What {@link Chain.build} takes: the header fields a block builder (miner or consensus client) chooses. */
export interface BuildOpts {
  timestamp: bigint
  coinbase?: Address
  /** No block when every transaction was refused. */
  skipEmpty?: boolean
  /** prevRandao; default keccak256(parent hash), so devnet replays agree. */
  mixHash?: Uint8Array
  /** From Shanghai; default none. */
  withdrawals?: WithdrawalData[]
  /** From Cancun; default 32 zero bytes. */
  parentBeaconBlockRoot?: Uint8Array
}

/** A block built and executed by {@link Chain.build} but not stored. */
export interface BuiltBlock {
  block: Block
  included: MinedTx[]
  rejected: { tx: TypedTransaction; error: Error }[]
  /** EIP-7685 requests (type byte + data) from Prague on; [] before. */
  requests: Uint8Array[]
}

/** What `mine(..., { skipEmpty: true })` returns when no transaction could be included. */
export interface SkippedBlock {
  skipped: true
  rejected: { tx: TypedTransaction; error: Error }[]
}

/** Where a transaction sits in the canonical chain. */
export interface TxLocation {
  block: Block
  index: number
  tx: TypedTransaction
}

/** Hears about committed blocks and head resets (the registry index). Must not throw. */
export interface ChainListener {
  onBlockCommitted(block: Block, receipts: StoredReceipt[]): Promise<void>
  onReset(head: Block): Promise<void>
}

/** Marks the impersonated transactions of eth_call and friends (they leave no inference records). */
export const CALL_TX = Symbol('lattice.callTx')

/** The Osaka cap on a single transaction's gas (EIP-7825). */
export const TX_GAS_CAP = 1n << 24n

/**
 * The chain: blocks and state in Level under the datadir, one VM kept at the canonical head,
 * and the receipts/lookup records the RPC needs. All state access goes through `exclusive`.
 */
export class Chain {
  readonly common: Common
  private headBlock!: Block

  private constructor(
    readonly spec: ChainSpec,
    readonly dbs: ChainDatabases,
    readonly blockchain: Blockchain,
    readonly vm: VM,
    readonly stateManager: MerkleStateManager,
    readonly datadir: string,
    private readonly evmOpts: Partial<EVMOpts>,
  ) {
    this.common = vm.common
  }

  private readonly lock = new Mutex()
  /** Told about every committed block and every head reset, inside `exclusive` (the registry index). */
  readonly listeners: ChainListener[] = []
  private inference?: InferencePrecompile
  /** Inference records of transactions executed since the last committed block, by tx hash (block-import.ts too). */
  readonly txRecords = new Map<string, InferenceRecord[]>()
  /** The write-ahead log of mined blocks and the group-commit timer (wal-commit.ts). */
  private walCommit!: WalCommit
  /** What the write-ahead log replay did at open (undefined when the log was empty). */
  walReplay?: WalReplayResult

  /** Open the chain in `opts.datadir`, writing genesis on first use. */
  static async open(opts: ChainOpts): Promise<Chain> {
    const dir = join(opts.datadir, 'chaindata')
    mkdirSync(dir, { recursive: true })
    let dbs: ChainDatabases
    try {
      dbs = await openChainDatabases(dir)
    } catch (err) {
      if ((err as { code?: string }).code === 'LEVEL_DATABASE_NOT_OPEN') throw new DatadirLockedError(opts.datadir)
      throw err
    }
    try {
      return await Chain.init(opts, dbs)
    } catch (err) {
      await dbs.close()
      throw err
    }
  }

  private static async init(opts: ChainOpts, dbs: ChainDatabases): Promise<Chain> {
    const common = createChainCommon(opts.spec)
    const trie = new MerklePatriciaTrie({
      db: dbs.state as unknown as DB<string, string | Uint8Array>,
      useKeyHashing: true,
      valueEncoding: ValueEncoding.Bytes,
      // LRU of trie nodes in front of LevelDB (entries, not bytes)
      cacheSize: 50_000,
      common,
    })
    // account/storage/code caches: without them every write during a call re-hashes trie nodes
    const caches = new Caches({
      account: { type: CacheType.LRU, size: 100_000 },
      storage: { type: CacheType.LRU, size: 50_000 },
      code: { type: CacheType.LRU, size: 5_000 },
    })
    const stateManager = new MerkleStateManager({ trie, common, caches })
    let blockchain: Blockchain
    try {
      blockchain = await createBlockchain({
        db: dbs.blocks,
        common,
        genesisState: opts.spec.state,
        hardforkByHeadBlockNumber: true,
        // blocks reach putBlock already validated: built by our VM, or imported through runBlock, which
        // checks the header against its parent and the transactions (validating again costs ~1 ecrecover per tx)
        validateBlocks: false,
        validateConsensus: false,
      })
    } catch (err) {
      if (/different hash than the provided genesis/.test(String((err as Error).message))) {
        throw new DatadirMismatchError(opts.datadir)
      }
      throw err
    }
    const genesis = blockchain.genesisBlock
    if (!(await stateManager.hasStateRoot(genesis.header.stateRoot))) {
      await stateManager.generateCanonicalGenesis(opts.spec.state)
      const root = await stateManager.getStateRoot()
      if (!equalsBytes(root, genesis.header.stateRoot)) {
        throw new LatticeError('GENESIS_STATE_MISMATCH', 'genesis state root does not match the genesis block')
      }
    }
    const evmOpts: Partial<EVMOpts> = { ...opts.evmOpts }
    if (opts.inference)
      evmOpts.customPrecompiles = [...(evmOpts.customPrecompiles ?? []), opts.inference.customPrecompile]
    const evm = await createEVM({ common, stateManager, blockchain, ...evmOpts })
    const vm = await createVM({ common, stateManager, blockchain, evm })
    const chain = new Chain(opts.spec, dbs, blockchain, vm, stateManager, opts.datadir, evmOpts)
    chain.inference = opts.inference
    if (opts.inference) {
      opts.inference.attach(evm)
      // every executed transaction (block building and import alike) hands over its inference records
      vm.events.on('afterTx', (ev: { transaction: TypedTransaction }) => {
        const records = opts.inference!.takeTxRecords(evm)
        // calls (eth_call, estimates) keep nothing, and hashing their calldata would be wasted work
        if (records.length > 0 && !(ev.transaction as unknown as Record<symbol, boolean>)[CALL_TX]) {
          chain.txRecords.set(bytesToHex(ev.transaction.hash()), records)
        }
      })
    }
    chain.headBlock = await blockchain.getCanonicalHeadBlock()
    await stateManager.setStateRoot(chain.headBlock.header.stateRoot)
    vm.common.setHardforkBy({ blockNumber: chain.headBlock.header.number, timestamp: chain.headBlock.header.timestamp })
    // blocks acknowledged before a crash took their staged writes come back from the log, then it is emptied
    const { commit, records } = await WalCommit.open({
      datadir: opts.datadir,
      group: dbs.group,
      lock: chain.lock,
      sync: opts.walFsync,
    })
    chain.walCommit = commit
    if (records.length > 0) {
      chain.walReplay = await chain.exclusive(async () => {
        const replay = await replayWal(chain, records)
        await commit.settleLocked()
        return replay
      })
    }
    commit.start()
    return chain
  }

  /**
   * Prepare an EVM built elsewhere (traces, simulations) to run this chain's precompiles: the inference
   * precompile follows its call frames to know its caller.
   */
  attachEvm(evm: EVM): void {
    this.inference?.attach(evm)
    // an EVM built for an RPC request (calls, traces, simulations) honours its deadline (call-limits.ts)
    const limits = currentCallLimits()
    if (limits) guardEvm(evm, limits)
  }

  /** Run `fn` with exclusive access to the head state (mining, calls, reads). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn)
  }

  /** The canonical head block. */
  get head(): Block {
    return this.headBlock
  }

  get chainId(): bigint {
    return this.common.chainId()
  }

  /** Canonical block by number, or undefined past the head. */
  async getBlockByNumber(n: bigint): Promise<Block | undefined> {
    if (n > this.headBlock.header.number || n < 0n) return undefined
    if (n === this.headBlock.header.number) return this.headBlock
    try {
      return await this.blockchain.getBlock(n)
    } catch {
      return undefined
    }
  }

  /** Block by hash (canonical or not), or undefined. */
  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    try {
      return await this.blockchain.getBlock(hash)
    } catch {
      return undefined
    }
  }

  /** Whether `block` is on the canonical chain. */
  async isCanonical(block: Block): Promise<boolean> {
    const canon = await this.getBlockByNumber(block.header.number)
    return canon !== undefined && equalsBytes(canon.hash(), block.hash())
  }

  /** Receipts of a block in transaction order ([] for an empty or unknown block). */
  async getReceipts(blockHash: Uint8Array): Promise<StoredReceipt[]> {
    const raw = await this.dbs.meta.get(metaKeys.receipts(blockHash))
    return raw ? decodeReceipts(raw as Uint8Array) : []
  }

  /** Inference records of a block, in transaction order ([] when it ran none). */
  async getInferenceRecords(blockHash: Uint8Array): Promise<BlockInferenceRecord[]> {
    const raw = await this.dbs.meta.get(inferenceRecordsKey(blockHash))
    return raw ? decodeInferenceRecords(raw as Uint8Array) : []
  }

  /** The inference Merkle root of a block's records (docs/proofs.md); 0x00…00 when it ran none. */
  async inferenceRootOf(block: Block): Promise<string> {
    return blockInferenceRoot(this.chainId, block, await this.getInferenceRecords(block.hash()))
  }

  /** Locate a canonical transaction by hash. */
  async getTransaction(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const raw = await this.dbs.meta.get(metaKeys.txLookup(txHash))
    if (!raw) return undefined
    const { blockHash, index } = decodeTxLookup(raw as Uint8Array)
    const block = await this.getBlockByHash(blockHash)
    if (!block || !(await this.isCanonical(block))) return undefined
    const tx = block.transactions[index]
    if (!tx || !equalsBytes(tx.hash(), txHash)) return undefined
    return { block, index, tx }
  }

  /** A state manager positioned at the post-state of `block` (shares the database, never writes). */
  async stateAt(block: Block): Promise<MerkleStateManager> {
    // downlevel caches: ordered maps and no trie LRU per copy (LRU caches preallocate 100k-entry maps,
    // 41% of an inference workload); trie nodes come from the state database's read cache (db-cache.ts)
    const sm = this.stateManager.shallowCopy(true) as MerkleStateManager
    // the head's root after devnet edits (head-state.ts), else the header's
    const root = stateRootOf(this, block)
    if (!(await sm.hasStateRoot(root))) throw new MissingStateError(block.header.number)
    await sm.setStateRoot(root)
    return sm
  }

  /** A throwaway VM over the post-state of `block`, for calls and traces at past blocks. */
  async vmAt(block: Block): Promise<VM> {
    const sm = await this.stateAt(block)
    const common = this.common.copy()
    common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp })
    const evm = await createEVM({ common, stateManager: sm, blockchain: this.blockchain, ...this.evmOpts })
    this.attachEvm(evm)
    return createVM({ common, stateManager: sm, blockchain: this.blockchain, evm })
  }

  /**
   * Build, execute and persist a block on top of the head. Transactions that cannot be included
   * are returned in `rejected`. Must run inside `exclusive`.
   */
  async mine(txs: TypedTransaction[], opts: { timestamp: bigint; coinbase?: Address }): Promise<MinedBlock>
  async mine(
    txs: TypedTransaction[],
    opts: { timestamp: bigint; coinbase?: Address; skipEmpty: true },
  ): Promise<MinedBlock | SkippedBlock>
  async mine(
    txs: TypedTransaction[],
    opts: { timestamp: bigint; coinbase?: Address; skipEmpty?: boolean },
  ): Promise<MinedBlock | SkippedBlock> {
    const parent = this.headBlock
    const built = await this.build(parent, txs, opts)
    if ('skipped' in built) return built
    try {
      // into the write-ahead log before it is acknowledged, its writes left for the next group commit; a block on
      // edited head state (devnet edits) cannot be replayed from the log, so it is written through at once
      const edited = !equalsBytes(stateRootOf(this, parent), parent.header.stateRoot)
      const commit = () => this.commitBlock(built.block, built.included)
      const receipts = edited ? await commit() : await this.walCommit.logged(built.block, commit)
      return { ...built, receipts }
    } catch (err) {
      await this.backTo(parent)
      throw err
    }
  }

  /**
   * Build and execute a block on `parent` (any block whose state is known) without storing it; the VM is
   * left at the block's post-state with its inference records pending (commit it, or call `backTo`).
   * A failure leaves the VM at `parent`. Must run inside `exclusive`.
   */
  async build(parent: Block, txs: TypedTransaction[], opts: BuildOpts): Promise<BuiltBlock | SkippedBlock> {
    this.txRecords.clear()
    const headerData: HeaderData = {
      number: parent.header.number + 1n,
      timestamp: opts.timestamp,
      // evm_setBlockGasLimit / anvil_setNextBlockBaseFeePerGas on a devnet (dev-header.ts)
      ...devHeaderFields(this, parent),
      coinbase: opts.coinbase,
      // prevrandao: deterministic from the parent so that replays agree (a consensus client passes its own)
      mixHash: opts.mixHash ?? keccak256(parent.hash()),
      parentBeaconBlockRoot: opts.parentBeaconBlockRoot ?? new Uint8Array(32),
    }
    this.vm.common.setHardforkBy({ blockNumber: headerData.number as bigint, timestamp: opts.timestamp })
    if (!this.vm.common.isActivatedEIP(4788)) delete headerData.parentBeaconBlockRoot
    // the VM sits at the head between calls: only a block on another parent needs a state switch (it clears caches)
    if (!equalsBytes(parent.hash(), this.headBlock.hash()))
      await this.stateManager.setStateRoot(parent.header.stateRoot)
    const builder = await buildBlock(this.vm, {
      parentBlock: parent,
      headerData,
      withdrawals: this.vm.common.isActivatedEIP(4895) ? (opts.withdrawals ?? []) : undefined,
      blockOpts: { putBlockIntoBlockchain: false, calcDifficultyFromHeader: parent.header },
    })
    const included: MinedTx[] = []
    const rejected: MinedBlock['rejected'] = []
    // the builder holds one checkpoint from its first transaction until build() or revert()
    const builderDepth = () => ((builder as unknown as { checkpointed: boolean }).checkpointed ? 1 : 0)
    try {
      // system call before the transactions: the parent's inference root into InferenceVerifier
      await applyInferenceRoot(this.vm, parent.header.number, await this.inferenceRootOf(parent))
      // before Cancun no EIP-4788 call opens the builder's checkpoint first: the system call's EIP-161 removal of
      // the system account then sits outside any checkpoint and the first transaction's commit loses it (a
      // Shanghai block kept an empty 0xff…fe account that import removes). Flush it now, as import does.
      if (builderDepth() === 0) await this.stateManager.getStateRoot()
      for (const tx of txs) {
        try {
          const result = await builder.addTransaction(tx)
          included.push({ tx, result, receipt: undefined as unknown as StoredReceipt })
        } catch (err) {
          // a refused transaction (invalid, or an inference this node cannot run) leaves nothing behind:
          // runTx reverted its own checkpoint
          rejected.push({ tx, error: toTxError(err) })
        }
        await assertCheckpointDepth(this.vm, `transaction ${bytesToHex(tx.hash())} in block building`, builderDepth())
      }
      if (opts.skipEmpty && included.length === 0 && txs.length > 0) {
        // every transaction was refused: no block (automine must not mine empty blocks for failures)
        await builder.revert()
        await assertCheckpointDepth(this.vm, 'reverting an empty block')
        await this.backTo(parent)
        return { skipped: true, rejected }
      }
      const { block, requests } = await builder.build()
      await assertCheckpointDepth(this.vm, `building block ${block.header.number}`)
      // the Engine API lists only requests with data (EIP-7685)
      return { block, included, rejected, requests: (requests ?? []).map((r) => r.bytes).filter((b) => b.length > 1) }
    } catch (err) {
      // the builder's checkpoint and anything a failure left open: back to the parent's flushed state
      await unwindCheckpoints(this.vm)
      await this.backTo(parent)
      throw err
    }
  }

  /** Put the VM back at `block`'s post-state (default: the head) and drop pending inference records. */
  async backTo(block: Block = this.headBlock): Promise<void> {
    await this.stateManager.setStateRoot(stateRootOf(this, block))
    this.vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp })
    this.txRecords.clear()
  }

  /**
   * Persist an executed block as the new head: its receipts and transaction lookups, then the block.
   * Shared by `mine`, `importBlock` and the Engine API; fills in `included[i].receipt`. With `canonical: false`
   * the block, receipts and inference records are stored beside the chain, the head stays (a side branch, or a
   * payload the consensus client has not chosen yet). Must run inside `exclusive`.
   */
  async commitBlock(block: Block, included: MinedTx[], opts: { canonical?: boolean } = {}): Promise<StoredReceipt[]> {
    const baseFee = block.header.baseFeePerGas ?? 0n
    const receipts = included.map((m) => {
      m.receipt = storedReceipt(m.tx, m.result, baseFee)
      return m.receipt
    })
    const records: BlockInferenceRecord[] = included.flatMap((m, txIndex) => {
      const txHash = bytesToHex(m.tx.hash())
      return (this.txRecords.get(txHash) ?? []).map((r) => ({ ...r, txHash, txIndex }))
    })
    this.txRecords.clear()
    const ops = [
      ...(records.length > 0
        ? [{ type: 'put' as const, key: inferenceRecordsKey(block.hash()), value: encodeInferenceRecords(records) }]
        : []),
      { type: 'put' as const, key: metaKeys.receipts(block.hash()), value: encodeReceipts(receipts) },
    ]
    // Receipts first, then the block (which moves the head): a crash between the two leaves
    // only unreferenced receipts, never a head without them.
    await this.dbs.meta.batch(ops)
    if (opts.canonical === false) await putSideBlock(this.blockchain, block)
    else await this.adoptHead(block, receipts)
    return receipts
  }

  /**
   * Make `block` (executed, receipts stored, its parent the head) the head: transaction lookups, the canonical
   * index, the listeners. The caller moves the VM state (`backTo`). Must run inside `exclusive`.
   */
  async adoptHead(block: Block, receipts: StoredReceipt[]): Promise<void> {
    await this.dbs.meta.batch(
      block.transactions.map((tx, i) => ({
        type: 'put' as const,
        key: metaKeys.txLookup(tx.hash()),
        value: encodeTxLookup(block.hash(), block.header.number, i),
      })),
    )
    await this.blockchain.putBlock(block)
    this.headBlock = block
    // ethereumjs' storage cache bounds accounts, not slots (state-cache-bound.ts, issue 15)
    if (block.header.number % STORAGE_CACHE_CHECK_EVERY === 0n) boundStateCaches(this.stateManager)
    for (const l of this.listeners) await l.onBlockCommitted(block, receipts)
  }

  /**
   * Execute a block received from elsewhere (import) on top of the head with full validation:
   * header against its parent, transactions, and the state root, receipts root, bloom and gas used
   * it claims. Returns 'known' for a block already in the canonical chain. Must run inside `exclusive`.
   */
  importBlock(block: Block, opts: { trusted?: boolean } = {}): Promise<'imported' | 'known'> {
    return importBlock(this, block, opts)
  }

  /**
   * Execute `block` on the post-state of `parent` (any block whose state is known) with full validation,
   * without storing it: the VM is left at the block's post-state with its inference records pending (commit it,
   * or call `backTo`). Throws BlockImportError (invalid block, the text names what differed) or ImportHaltedError
   * (a model this node cannot get), with the VM back at the head. Must run inside `exclusive`.
   */
  execute(block: Block, parent: Block, opts: { trusted?: boolean } = {}): Promise<MinedTx[]> {
    return executeBlock(this, block, parent, opts)
  }

  /** Make block `number` the head again (evm_revert). Later blocks stay in the DB as non-canonical. */
  async resetHead(number: bigint): Promise<void> {
    if (number >= this.headBlock.header.number) return
    await this.blockchain.resetCanonicalHead(number)
    this.headBlock = await this.blockchain.getCanonicalHeadBlock()
    await this.stateManager.setStateRoot(this.headBlock.header.stateRoot)
    // the log's later blocks are off the chain now: replaying them would bring them back
    await this.walCommit.settleLocked()
    for (const l of this.listeners) await l.onReset(this.headBlock)
  }

  async close(): Promise<void> {
    await this.lock.run(async () => {
      await this.walCommit.close()
      await this.dbs.close()
    })
  }
}

export const blockHashHex = (b: Block) => bytesToHex(b.hash())
