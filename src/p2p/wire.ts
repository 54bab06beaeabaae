// One message per libp2p stream: the sender writes the length and the bytes and closes; the receiver reads that
// many bytes, up to a per-protocol cap and within a deadline. Gossip messages are small and rare enough (a batch
// of transactions, a block's signature) that a fresh stream each costs less than keeping ordered streams per peer.
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { GossipMessageError } from './errors.ts'

/** Protocol ids of a network: the genesis hash in the id keeps two chains' nodes from gossiping to each other. */
export interface LatticeProtocols {
  tx: string
  attestation: string
}

/** The protocol ids for the chain with genesis block hash `genesisHash` (0x-hex). */
export function latticeProtocols(genesisHash: string): LatticeProtocols {
  const g = genesisHash.replace(/^0x/, '').slice(0, 16)
  return { tx: `/lattice/${g}/tx/1`, attestation: `/lattice/${g}/attestation/1` }
}

/** How long one message may take to arrive or leave (a stalled peer must not hold a stream open). */
export const MESSAGE_TIMEOUT_MS = 10_000

/**
 * Send `bytes` to `peer` as one message on a new stream of `protocol`. The message carries its length (4 bytes,
 * big-endian) first: the reader stops at the end of it without waiting for the stream's close, which yamux may
 * deliver late for a stream opened as the connection is still being set up.
 */
export async function sendMessage(
  libp2p: Libp2p,
  peer: PeerId,
  protocol: string,
  bytes: Uint8Array,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const signal = AbortSignal.any([AbortSignal.timeout(MESSAGE_TIMEOUT_MS), ...(opts.signal ? [opts.signal] : [])])
  const stream = await libp2p.dialProtocol(peer, protocol, { signal })
  try {
    const framed = new Uint8Array(4 + bytes.byteLength)
    new DataView(framed.buffer).setUint32(0, bytes.byteLength)
    framed.set(bytes, 4)
    if (!stream.send(framed)) await stream.onDrain({ signal })
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

/** Read one whole message from an inbound stream; throws GossipMessageError past `maxBytes` or after the deadline. */
export async function readMessage(stream: Stream, protocol: string, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  let want: number | undefined
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    stream.abort(new GossipMessageError(protocol, 'timed out'))
  }, MESSAGE_TIMEOUT_MS)
  try {
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      chunks.push(bytes)
      size += bytes.byteLength
      if (want === undefined && size >= 4) {
        const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
        want = new DataView(head.buffer, head.byteOffset, 4).getUint32(0)
        if (want > maxBytes) {
          const err = new GossipMessageError(protocol, `${want} bytes, more than the ${maxBytes} allowed`)
          stream.abort(err)
          throw err
        }
      }
      if (want !== undefined && size >= 4 + want) break
    }
  } catch (err) {
    if (timedOut) throw new GossipMessageError(protocol, 'timed out')
    throw err
  } finally {
    clearTimeout(timer)
  }
  if (want === undefined || size < 4 + want)
    throw new GossipMessageError(protocol, 'the stream ended inside the message')
  if (size > 4 + want) throw new GossipMessageError(protocol, 'bytes after the message')
  await stream.close().catch(() => {})
  const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
  return all.subarray(4)
}

/** A set that forgets its oldest members past `max` (seen transaction hashes, seen signatures). */
export class BoundedSet<T> {
  private readonly items = new Set<T>()

  constructor(private readonly max: number) {}

  has(v: T): boolean {
    return this.items.has(v)
  }

  add(v: T): void {
    if (this.items.has(v)) return
    this.items.add(v)
    if (this.items.size > this.max) this.items.delete(this.items.values().next().value as T)
  }
}
