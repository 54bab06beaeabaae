// Inference-root attestation gossip: a validator node sends its signature of every block root it signs to its
// peers; every node checks what it receives (the signer is in the genesis validator set, and the signature
// recovers to it over the root THIS node computed for a block it executed) and keeps the valid ones with the
// block, where lattice_getInferenceProof finds them. Signatures for a block not executed here yet wait (bounded)
// until it is. Valid signatures are passed on once, so a node need not be connected to every validator.
import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { attestorFor, readAttestation, storeSignatures } from '../chain/attestor.ts'
import type { Chain, ChainListener } from '../chain/chain.ts'
import { errorMessage } from '../errors.ts'
import type { RootSignature } from '../proofs/attestation.ts'
import { recoverSigner } from '../proofs/attestation.ts'
import { EMPTY_INFERENCE_ROOT } from '../proofs/merkle.ts'
import { AttestationRejectedError, GossipMessageError } from './errors.ts'
import { BoundedSet, readMessage, sendMessage } from './wire.ts'

/** Signatures of one block's inference root, as they travel. */
export interface AttestationMessage {
  blockHash: string
  blockNumber: bigint
  inferenceRoot: string
  signatures: RootSignature[]
}

/** RLP [blockHash, blockNumber, inferenceRoot, [[signer, signature], ...]]. */
export function encodeAttestationMessage(m: AttestationMessage): Uint8Array {
  return RLP.encode([
    hexToBytes(m.blockHash as `0x${string}`),
    m.blockNumber,
    hexToBytes(m.inferenceRoot as `0x${string}`),
    m.signatures.map((s) => [hexToBytes(s.signer as `0x${string}`), hexToBytes(s.signature as `0x${string}`)]),
  ])
}

/** Decode a message; throws GossipMessageError on anything malformed. */
export function decodeAttestationMessage(protocol: string, bytes: Uint8Array): AttestationMessage {
  try {
    const [hash, num, root, sigs] = RLP.decode(bytes) as unknown as [Uint8Array, Uint8Array, Uint8Array, Uint8Array[][]]
    const ok =
      hash instanceof Uint8Array &&
      hash.length === 32 &&
      num instanceof Uint8Array &&
      num.length <= 8 &&
      root instanceof Uint8Array &&
      root.length === 32 &&
      Array.isArray(sigs) &&
      sigs.length <= MAX_SIGNATURES &&
      sigs.every((s) => Array.isArray(s) && s.length === 2 && s[0]?.length === 20 && s[1]?.length === 65)
    if (!ok) throw new GossipMessageError(protocol, 'not [blockHash, number, root, [[signer, signature]...]]')
    return {
      blockHash: bytesToHex(hash),
      blockNumber: bytesToBigInt(num),
      inferenceRoot: bytesToHex(root),
      signatures: sigs.map(([signer, signature]) => ({ signer: bytesToHex(signer), signature: bytesToHex(signature) })),
    }
  } catch (err) {
    if (err instanceof GossipMessageError) throw err
    throw new GossipMessageError(protocol, `not RLP (${errorMessage(err)})`)
  }
}

/** Most signatures in one message (a validator set larger than this is not expected). */
const MAX_SIGNATURES = 1024
/** Blocks whose signatures may wait for the block to be executed here. */
const MAX_WAITING_BLOCKS = 256
/** Signatures that may wait in all (a few validators' signatures of the last 256 blocks). */
const MAX_WAITING_SIGNATURES = 8192
/** Recent blocks whose signatures a newly connected peer is sent. */
const CATCH_UP_BLOCKS = 64n

/** Options for {@link AttestationGossip}. */
export interface AttestationGossipOpts {
  libp2p: Libp2p
  chain: Chain
  protocol: string
  /** Told of every rejected signature and failed send (the node logs them). */
  log?: (line: string) => void
}

/** Counters, for tests and logs. */
export interface AttestationGossipStats {
  /** Signatures stored from peers. */
  accepted: number
  /** Signatures that failed verification. */
  rejected: number
  /** Signatures already held. */
  duplicates: number
  /** Signatures waiting for their block. */
  waiting: number
  badMessages: number
}

/** Attestation gossip on a libp2p node; as a chain listener, it sends this node's signature of each block. */
export class AttestationGossip implements ChainListener {
  readonly stats: AttestationGossipStats = { accepted: 0, rejected: 0, duplicates: 0, waiting: 0, badMessages: 0 }
  private readonly validators: Set<string>
  /** blockHash + signer + signature of every signature stored or sent (signatures are deterministic, RFC 6979). */
  private readonly seen = new BoundedSet<string>(65_536)
  /** Signatures for blocks not executed here yet, by block hash, with the peer they came from. */
  private readonly waiting = new Map<string, { msg: AttestationMessage; from: string }[]>()
  private closed = false
  private readonly onConnect = (evt: CustomEvent<PeerId>) => void this.catchUp(evt.detail)

  constructor(private readonly opts: AttestationGossipOpts) {
    this.validators = new Set((opts.chain.spec.lattice.validators ?? []).map((v) => v.toLowerCase()))
  }

  async start(): Promise<void> {
    await this.opts.libp2p.handle(this.opts.protocol, (stream, conn) => this.receive(stream, conn.remotePeer), {
      maxInboundStreams: 64,
    })
    this.opts.chain.listeners.push(this)
    this.opts.libp2p.addEventListener('peer:connect', this.onConnect)
  }

  async stop(): Promise<void> {
    this.closed = true
    const i = this.opts.chain.listeners.indexOf(this)
    if (i >= 0) this.opts.chain.listeners.splice(i, 1)
    this.opts.libp2p.removeEventListener('peer:connect', this.onConnect)
    await this.opts.libp2p.unhandle(this.opts.protocol).catch(() => {})
  }

  /** Runs inside the chain's lock: the work is deferred so that it can take the lock itself. */
  async onBlockCommitted(block: Block): Promise<void> {
    if (!this.closed) setImmediate(() => void this.afterCommit(block))
  }

  async onReset(): Promise<void> {}

  private async afterCommit(block: Block): Promise<void> {
    try {
      const hash = bytesToHex(block.hash())
      const waiting = this.waiting.get(hash)
      if (waiting) {
        this.waiting.delete(hash)
        for (const w of waiting) {
          await this.accept(w.msg, w.from)
          this.stats.waiting -= w.msg.signatures.length
        }
      }
      const attestor = attestorFor(this.opts.chain)
      if (!attestor) return
      // the attestor signed it as it was committed; attest() returns that stored signature (or signs now)
      const stored = await this.opts.chain.exclusive(() => attestor.attest(block))
      const own = stored?.signatures.find((s) => s.signer === attestor.address)
      if (!stored || !own) return
      this.seen.add(`${hash}${own.signer}${own.signature}`)
      await this.broadcast(
        { blockHash: hash, blockNumber: block.header.number, inferenceRoot: stored.inferenceRoot, signatures: [own] },
        undefined,
      )
    } catch (err) {
      this.opts.log?.(`attestation gossip for block ${block.header.number} failed: ${errorMessage(err)}`)
    }
  }

  private async receive(stream: Stream, peer: PeerId): Promise<void> {
    let msg: AttestationMessage
    try {
      msg = decodeAttestationMessage(this.opts.protocol, await readMessage(stream, this.opts.protocol, 256 * 1024))
    } catch (err) {
      this.stats.badMessages++
      this.opts.log?.(`dropped a message from ${peer}: ${errorMessage(err)}`)
      return
    }
    try {
      await this.accept(msg, peer.toString())
    } catch (err) {
      // storing failed (the node is stopping): the signature is lost here, never the node
      this.opts.log?.(`could not store signatures from ${peer}: ${errorMessage(err)}`)
    }
  }

  /**
   * Check and store the signatures of `msg` (from peer `from`); forward the new valid ones. Returns how many were
   * stored. Never throws: a bad signature is counted, logged and dropped.
   */
  async accept(msg: AttestationMessage, from: string): Promise<number> {
    if (this.closed) return 0
    const chain = this.opts.chain
    const fresh = msg.signatures.filter((s) => {
      const dup = this.seen.has(`${msg.blockHash}${s.signer.toLowerCase()}${s.signature}`)
      if (dup) this.stats.duplicates++
      return !dup
    })
    if (fresh.length === 0) return 0
    const block = await chain.getBlockByHash(hexToBytes(msg.blockHash as `0x${string}`))
    if (!block) {
      // only what could be valid waits: a validator's signature over the root it claims (checked again, against
      // this node's own root, once the block is here), so a peer cannot fill the buffer with junk
      const plausible = this.valid(msg, msg.blockNumber, msg.inferenceRoot, fresh, from)
      if (plausible.length > 0) this.wait({ ...msg, signatures: plausible }, from)
      return 0
    }
    let root: string
    try {
      root = await chain.inferenceRootOf(block)
      if (root === EMPTY_INFERENCE_ROOT) throw new AttestationRejectedError(msg.blockHash, 'the block ran no inference')
      if (root !== msg.inferenceRoot) {
        throw new AttestationRejectedError(
          msg.blockHash,
          `signed root ${msg.inferenceRoot}, this node computed ${root}`,
        )
      }
    } catch (err) {
      this.stats.rejected += fresh.length
      this.opts.log?.(`from ${from}: ${errorMessage(err)}`)
      return 0
    }
    const good = this.valid(msg, block.header.number, root, fresh, from)
    for (const s of good) this.seen.add(`${msg.blockHash}${s.signer}${s.signature}`)
    if (good.length === 0) return 0
    await chain.exclusive(() => storeSignatures(chain, block.hash(), root, good))
    this.stats.accepted += good.length
    await this.broadcast({ ...msg, blockNumber: block.header.number, signatures: good }, from)
    return good.length
  }

  /** The signatures of `sigs` by a genesis validator over (block, root); the others are counted and logged. */
  private valid(
    msg: AttestationMessage,
    blockNumber: bigint,
    inferenceRoot: string,
    sigs: RootSignature[],
    from: string,
  ): RootSignature[] {
    const m = { chainId: this.opts.chain.chainId, blockNumber, blockHash: msg.blockHash, inferenceRoot }
    const out: RootSignature[] = []
    for (const s of sigs) {
      const signer = s.signer.toLowerCase()
      const why = !this.validators.has(signer)
        ? `${signer} is not a genesis validator`
        : recoverSigner(m, s.signature) !== signer
          ? `the signature does not recover to ${signer}`
          : undefined
      if (why) {
        this.stats.rejected++
        this.opts.log?.(`from ${from}: ${new AttestationRejectedError(msg.blockHash, why).shortMessage}`)
      } else out.push({ signer, signature: s.signature })
    }
    return out
  }

  private wait(msg: AttestationMessage, from: string): void {
    const list = this.waiting.get(msg.blockHash) ?? []
    if (!this.waiting.has(msg.blockHash)) {
      // oldest first out: a peer cannot fill memory with signatures for blocks that never come
      if (this.waiting.size >= MAX_WAITING_BLOCKS) {
        const [oldest, dropped] = this.waiting.entries().next().value as [string, { msg: AttestationMessage }[]]
        this.waiting.delete(oldest)
        this.stats.waiting -= dropped.reduce((n, w) => n + w.msg.signatures.length, 0)
      }
      this.waiting.set(msg.blockHash, list)
    }
    // each validator's signature once per block, and a bound on them all
    const held = new Set(list.flatMap((w) => w.msg.signatures.map((s) => `${s.signer}${s.signature}`)))
    const sigs = msg.signatures.filter((s) => !held.has(`${s.signer}${s.signature}`))
    if (sigs.length === 0 || this.stats.waiting + sigs.length > MAX_WAITING_SIGNATURES) return
    list.push({ msg: { ...msg, signatures: sigs }, from })
    this.stats.waiting += sigs.length
  }

  private async broadcast(msg: AttestationMessage, except: string | undefined): Promise<void> {
    const bytes = encodeAttestationMessage(msg)
    await Promise.all(
      this.opts.libp2p
        .getPeers()
        .filter((p) => p.toString() !== except)
        .map((p) => this.send(p, bytes)),
    )
  }

  private async send(peer: PeerId, bytes: Uint8Array): Promise<void> {
    if (this.closed) return
    try {
      await sendMessage(this.opts.libp2p, peer, this.opts.protocol, bytes)
    } catch (err) {
      this.opts.log?.(`attestation gossip to ${peer} failed: ${errorMessage(err)}`)
    }
  }

  /** A peer that just connected (a restarted node) gets the signatures held for recent blocks. */
  private async catchUp(peer: PeerId): Promise<void> {
    const chain = this.opts.chain
    const head = chain.head.header.number
    try {
      for (let n = head > CATCH_UP_BLOCKS ? head - CATCH_UP_BLOCKS : 1n; n <= head && !this.closed; n++) {
        const block = await chain.getBlockByNumber(n)
        if (!block) continue
        const a = await readAttestation(chain, block.hash())
        if (!a || a.signatures.length === 0) continue
        const msg = { blockHash: bytesToHex(block.hash()), blockNumber: n, ...a }
        await this.send(peer, encodeAttestationMessage(msg))
      }
    } catch (err) {
      this.opts.log?.(`could not send recent signatures to ${peer}: ${errorMessage(err)}`)
    }
  }
}
