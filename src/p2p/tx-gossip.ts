// Transaction gossip: every transaction a node's pool accepts (from RPC or from a peer) is sent to every
// connected peer, batched per tick; a transaction from a peer goes through the same admission as
// eth_sendRawTransaction (signature, chain id, nonce, balance, fees, gas limits, pool limits), so a peer
// can put nothing in the pool that a local client could not. Duplicates are dropped by hash.
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import { TransactionType } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { LatticeNode } from '../chain/node.ts'
import { decodeRawTx } from '../chain/submission.ts'
import { errorMessage } from '../errors.ts'
import { GossipMessageError } from './errors.ts'
import { BoundedSet, readMessage, sendMessage } from './wire.ts'

/** Options for {@link TxGossip}. */
export interface TxGossipOpts {
  libp2p: Libp2p
  node: LatticeNode
  /** The protocol id (wire.ts latticeProtocols). */
  protocol: string
  /** Told of every transaction dropped on arrival and every failed send (the node logs them). */
  log?: (line: string) => void
  /** Largest message accepted from a peer (default 8 MiB: the RPC's body limit plus blob sidecars). */
  maxMessageBytes?: number
  /** How long accepted transactions are collected before a batch goes out (default 20 ms). */
  batchDelayMs?: number
}

/** Counters, for admin_peers/metrics and tests. */
export interface TxGossipStats {
  /** Transactions read from peers. */
  received: number
  /** Of those, admitted to the pool. */
  accepted: number
  /** Of those, refused by the pool's rules (and dropped). */
  rejected: number
  /** Already seen (or pooled): not processed again. */
  duplicates: number
  /** Messages that did not decode. */
  badMessages: number
  /** Transactions sent, counted per peer. */
  sent: number
}

/** The bytes a transaction travels as: the network form for blob transactions (with their sidecar). */
export function networkBytes(tx: TypedTransaction): Uint8Array {
  if (tx.type === TransactionType.BlobEIP4844) {
    const blob = tx as TypedTransaction & { serializeNetworkWrapper(): Uint8Array; blobs?: unknown[] }
    if (blob.blobs && blob.blobs.length > 0) return blob.serializeNetworkWrapper()
  }
  return tx.serialize()
}

/** Most transactions one message may carry. */
const MAX_TXS_PER_MESSAGE = 4096
/** Bytes of transactions per message sent: half of what a receiver accepts by default, so any batch fits. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024

/** Cut `raws` into runs of at most `maxCount` items and `maxBytes` bytes (an item larger than that goes alone). */
export function splitBatch(raws: Uint8Array[], maxCount: number, maxBytes: number): Uint8Array[][] {
  const out: Uint8Array[][] = []
  let cur: Uint8Array[] = []
  let bytes = 0
  for (const r of raws) {
    if (cur.length > 0 && (cur.length >= maxCount || bytes + r.byteLength > maxBytes)) {
      out.push(cur)
      cur = []
      bytes = 0
    }
    cur.push(r)
    bytes += r.byteLength
  }
  if (cur.length > 0) out.push(cur)
  return out
}

/** Transaction gossip over one protocol of a libp2p node. */
export class TxGossip {
  readonly stats: TxGossipStats = { received: 0, accepted: 0, rejected: 0, duplicates: 0, badMessages: 0, sent: 0 }
  private readonly seen = new BoundedSet<string>(65_536)
  /** The peer a transaction being admitted came from, so it is not echoed back there. */
  private readonly origin = new Map<string, string>()
  /** Accepted transactions waiting for the next batch: hash -> (bytes, peer it came from). */
  private queue = new Map<string, { raw: Uint8Array; from?: string }>()
  private timer?: NodeJS.Timeout
  private closed = false
  // runs inside the node's submit(): gossip must never fail the submission that emitted it
  private readonly onPending = (hash: string) => {
    try {
      this.enqueue(hash)
    } catch (err) {
      this.opts.log?.(`could not queue transaction ${hash} for peers: ${errorMessage(err)}`)
    }
  }
  private readonly onConnect = (evt: CustomEvent<PeerId>) => void this.sendPool(evt.detail)

  constructor(private readonly opts: TxGossipOpts) {}

  async start(): Promise<void> {
    await this.opts.libp2p.handle(this.opts.protocol, (stream, conn) => this.receive(stream, conn.remotePeer), {
      maxInboundStreams: 64,
    })
    this.opts.node.on('pendingTransaction', this.onPending)
    this.opts.libp2p.addEventListener('peer:connect', this.onConnect)
  }

  async stop(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    this.opts.node.off('pendingTransaction', this.onPending)
    this.opts.libp2p.removeEventListener('peer:connect', this.onConnect)
    await this.opts.libp2p.unhandle(this.opts.protocol).catch(() => {})
  }

  /** A transaction entered the pool: queue it for every peer but the one it came from. */
  private enqueue(hash: string): void {
    if (this.closed) return
    const tx = this.opts.node.pool.get(hash)
    if (!tx) return
    this.seen.add(hash)
    this.queue.set(hash, { raw: networkBytes(tx), from: this.origin.get(hash) })
    this.timer ??= setTimeout(() => void this.flush(), this.opts.batchDelayMs ?? 20)
  }

  private async flush(): Promise<void> {
    this.timer = undefined
    const batch = this.queue
    this.queue = new Map()
    const libp2p = this.opts.libp2p
    // send() never throws: one peer's failure is logged and the others still get the batch
    await Promise.all(
      libp2p.getPeers().map(async (peer) => {
        const id = peer.toString()
        const raws = [...batch.values()].filter((e) => e.from !== id).map((e) => e.raw)
        if (raws.length > 0) await this.send(peer, raws)
      }),
    )
  }

  /** A new peer gets what the pool holds now (geth announces its pool to a new peer too). */
  private async sendPool(peer: PeerId): Promise<void> {
    try {
      const { pending, queued } = this.opts.node.pool.content(() => 0n)
      const raws = [...pending.values(), ...queued.values()].flat().map(networkBytes)
      if (raws.length > 0) await this.send(peer, raws)
    } catch (err) {
      this.opts.log?.(`could not send the pool to ${peer}: ${errorMessage(err)}`)
    }
  }

  private async send(peer: PeerId, raws: Uint8Array[]): Promise<void> {
    for (const part of splitBatch(raws, MAX_TXS_PER_MESSAGE, MAX_BATCH_BYTES)) {
      if (this.closed) return
      try {
        await sendMessage(this.opts.libp2p, peer, this.opts.protocol, RLP.encode(part))
        this.stats.sent += part.length
      } catch (err) {
        // a peer that does not speak the protocol (a plain IPFS node) or went away: nothing to do
        this.opts.log?.(`tx gossip to ${peer} failed: ${errorMessage(err)}`)
        return
      }
    }
  }

  private async receive(stream: Stream, peer: PeerId): Promise<void> {
    let raws: Uint8Array[]
    try {
      const bytes = await readMessage(stream, this.opts.protocol, this.opts.maxMessageBytes ?? 8 * 1024 * 1024)
      raws = decodeBatch(this.opts.protocol, bytes)
    } catch (err) {
      this.stats.badMessages++
      this.opts.log?.(`dropped a message from ${peer}: ${errorMessage(err)}`)
      return
    }
    for (const raw of raws) await this.admit(raw, peer.toString())
  }

  /** Admit one transaction from `peer` exactly as eth_sendRawTransaction would; never throws. */
  async admit(raw: Uint8Array, peer: string): Promise<boolean> {
    if (this.closed) return false
    this.stats.received++
    let hash: string
    try {
      hash = bytesToHex(decodeRawTx(this.opts.node.chain, raw).hash())
    } catch (err) {
      this.stats.rejected++
      this.opts.log?.(`dropped a transaction from ${peer}: ${errorMessage(err)}`)
      return false
    }
    if (this.seen.has(hash) || this.opts.node.pool.has(hash)) {
      this.stats.duplicates++
      return false
    }
    this.seen.add(hash)
    this.origin.set(hash, peer)
    try {
      await this.opts.node.sendRawTransaction(raw)
      this.stats.accepted++
      return true
    } catch (err) {
      this.stats.rejected++
      this.opts.log?.(`dropped transaction ${hash} from ${peer}: ${errorMessage(err)}`)
      return false
    } finally {
      this.origin.delete(hash)
    }
  }
}

/** An RLP list of byte strings, or GossipMessageError. */
function decodeBatch(protocol: string, bytes: Uint8Array): Uint8Array[] {
  let list: unknown
  try {
    list = RLP.decode(bytes)
  } catch (err) {
    throw new GossipMessageError(protocol, `not RLP (${errorMessage(err)})`)
  }
  if (!Array.isArray(list) || !list.every((x) => x instanceof Uint8Array)) {
    throw new GossipMessageError(protocol, 'not a list of transactions')
  }
  if (list.length > MAX_TXS_PER_MESSAGE) {
    throw new GossipMessageError(protocol, `${list.length} transactions (at most ${MAX_TXS_PER_MESSAGE})`)
  }
  return list as Uint8Array[]
}
