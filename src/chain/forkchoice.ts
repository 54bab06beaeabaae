// The chain side of the Engine API (src/engine): execute a payload on any known parent without moving the head,
// move the head to any known valid block (a reorg when it is on another branch), and keep the consensus client's
// `safe` and `finalized` blocks. Everything here runs inside `chain.exclusive`.
import type { Block } from '@ethereumjs/block'
import { bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Chain } from './chain.ts'
import { BlockImportError, ImportHaltedError } from './errors.ts'

/** The Engine API's verdict on a payload (execution-apis PayloadStatusV1). */
export interface PayloadVerdict {
  status: 'VALID' | 'INVALID' | 'SYNCING' | 'ACCEPTED'
  /** The newest valid block on the payload's branch (the payload itself when VALID); null when unknown. */
  latestValidHash: string | null
  validationError: string | null
}

/** A block tag the consensus client sets. */
export type ForkchoiceTag = 'safe' | 'finalized'

// meta keys of the forkchoice tags ('f' + s/f)
const TAG_KEYS: Record<ForkchoiceTag, Uint8Array> = {
  safe: new Uint8Array([0x66, 0x73]),
  finalized: new Uint8Array([0x66, 0x66]),
}

// blocks found invalid, with the verdict to repeat (geth keeps such a cache too); bounded, oldest out
const MAX_INVALID = 512
const invalidBlocks = new WeakMap<Chain, Map<string, PayloadVerdict>>()

function invalidOf(chain: Chain): Map<string, PayloadVerdict> {
  let m = invalidBlocks.get(chain)
  if (!m) {
    m = new Map()
    invalidBlocks.set(chain, m)
  }
  return m
}

function remember(chain: Chain, hash: string, verdict: PayloadVerdict): PayloadVerdict {
  const m = invalidOf(chain)
  if (m.size >= MAX_INVALID) m.delete(m.keys().next().value as string)
  m.set(hash, verdict)
  return verdict
}

/** The stored verdict of a block this node found invalid, or undefined. */
export function knownInvalid(chain: Chain, hash: string): PayloadVerdict | undefined {
  return invalidOf(chain).get(hash)
}

/** Whether this node has executed `block` (it has its state; every stored block was executed first). */
async function isExecuted(chain: Chain, block: Block): Promise<boolean> {
  return chain.stateManager.hasStateRoot(block.header.stateRoot)
}

/**
 * Execute a payload's block on its parent, wherever the parent is (head or a side branch), and store it beside
 * the chain without moving the head (forkchoiceUpdated does that). VALID, INVALID with what differed, SYNCING
 * when the parent is unknown (or a model this node cannot get stops execution: that says nothing about the block),
 * ACCEPTED when the parent is known but not executed. Must run inside `chain.exclusive`.
 */
export async function executePayload(
  chain: Chain,
  block: Block,
  log?: (line: string) => void,
): Promise<PayloadVerdict> {
  const hash = bytesToHex(block.hash())
  const bad = knownInvalid(chain, hash)
  if (bad) return bad
  const known = await chain.getBlockByHash(block.hash())
  if (known && (await isExecuted(chain, known)))
    return { status: 'VALID', latestValidHash: hash, validationError: null }
  const parentHash = bytesToHex(block.header.parentHash)
  const parentBad = knownInvalid(chain, parentHash)
  if (parentBad) {
    return remember(chain, hash, {
      status: 'INVALID',
      latestValidHash: parentBad.latestValidHash,
      validationError: `its parent ${parentHash} is invalid`,
    })
  }
  const parent = await chain.getBlockByHash(block.header.parentHash)
  if (!parent) return { status: 'SYNCING', latestValidHash: null, validationError: null }
  if (!(await isExecuted(chain, parent))) return { status: 'ACCEPTED', latestValidHash: null, validationError: null }
  if (block.header.number !== parent.header.number + 1n || block.header.timestamp <= parent.header.timestamp) {
    return remember(chain, hash, {
      status: 'INVALID',
      latestValidHash: parentHash,
      validationError: `block ${block.header.number} at ${block.header.timestamp} does not follow its parent ${parent.header.number} at ${parent.header.timestamp}`,
    })
  }
  try {
    const included = await chain.execute(block, parent)
    try {
      await chain.commitBlock(block, included, { canonical: false })
    } finally {
      await chain.backTo()
    }
    return { status: 'VALID', latestValidHash: hash, validationError: null }
  } catch (err) {
    if (err instanceof ImportHaltedError) {
      log?.(`engine: payload ${hash} not executed: ${err.shortMessage}`)
      return { status: 'SYNCING', latestValidHash: null, validationError: null }
    }
    if (err instanceof BlockImportError) {
      log?.(`engine: payload ${hash} is INVALID: ${err.shortMessage}`)
      return remember(chain, hash, {
        status: 'INVALID',
        latestValidHash: parentHash,
        validationError: err.shortMessage,
      })
    }
    throw err
  }
}

/** What a head change did: blocks that became canonical (oldest first) and blocks that left it (newest first). */
export interface HeadChange {
  adopted: Block[]
  removed: Block[]
}

/**
 * Make `head` (an executed block) the canonical head: a reorg when it is on a side branch, a rewind when it is a
 * canonical ancestor. The canonical index, transaction lookups, VM state and chain listeners (registry index:
 * `onReset` at the common ancestor, then `onBlockCommitted` per adopted block) follow. Inside `chain.exclusive`.
 */
export async function setCanonicalHead(chain: Chain, head: Block): Promise<HeadChange> {
  const current = chain.head
  if (equalsBytes(head.hash(), current.hash())) return { adopted: [], removed: [] }
  const branch: Block[] = []
  let cursor = head
  while (!(await chain.isCanonical(cursor))) {
    branch.unshift(cursor)
    const parent = await chain.getBlockByHash(cursor.header.parentHash)
    if (!parent)
      throw new BlockImportError(cursor.header.number, `its parent ${bytesToHex(cursor.header.parentHash)} is unknown`)
    cursor = parent
  }
  const ancestor = cursor
  const removed: Block[] = []
  for (let n = current.header.number; n > ancestor.header.number; n--) {
    const b = await chain.getBlockByNumber(n)
    if (b) removed.push(b)
  }
  if (ancestor.header.number < current.header.number) await chain.resetHead(ancestor.header.number)
  for (const block of branch) await chain.adoptHead(block, await chain.getReceipts(block.hash()))
  await chain.backTo()
  return { adopted: branch, removed }
}

/** Whether `hash` is `head` or one of its ancestors. */
export async function isAncestor(chain: Chain, hash: Uint8Array, head: Block): Promise<boolean> {
  const target = await chain.getBlockByHash(hash)
  if (!target || target.header.number > head.header.number) return false
  let cursor: Block | undefined = head
  while (cursor && cursor.header.number > target.header.number) {
    // the canonical chain below the walk is indexed: one lookup instead of a walk
    if (await chain.isCanonical(cursor)) {
      const canon = await chain.getBlockByNumber(target.header.number)
      return canon !== undefined && equalsBytes(canon.hash(), hash)
    }
    cursor = await chain.getBlockByHash(cursor.header.parentHash)
  }
  return cursor !== undefined && equalsBytes(cursor.hash(), hash)
}

/** Store the consensus client's safe or finalized block hash (survives restarts). */
export async function setForkchoiceTag(chain: Chain, tag: ForkchoiceTag, hash: Uint8Array): Promise<void> {
  await chain.dbs.meta.put(TAG_KEYS[tag], hash)
}

/** The stored safe or finalized block hash, or undefined when no consensus client has set it. */
export async function forkchoiceTagHash(chain: Chain, tag: ForkchoiceTag): Promise<Uint8Array | undefined> {
  const raw = (await chain.dbs.meta.get(TAG_KEYS[tag])) as Uint8Array | undefined
  return raw && raw.length === 32 ? raw : undefined
}

/**
 * The block a `safe` / `finalized` tag names: the consensus client's choice; the head while none has set it
 * (a single-node devnet's blocks are final at once, as geth --dev answers).
 */
export async function taggedBlock(chain: Chain, tag: ForkchoiceTag): Promise<Block> {
  const hash = await forkchoiceTagHash(chain, tag)
  if (!hash) return chain.head
  const block = await chain.getBlockByHash(hash)
  return block && (await chain.isCanonical(block)) ? block : chain.head
}

/** Hex of a 32-byte hash, for callers that hold strings. */
export const hashBytes = (h: string) => hexToBytes(h as `0x${string}`)
