// The pinner: keeps claimed model packages in this node's IPFS store and earns IPFSIncentives rewards by
// answering storage challenges (docs/storage.md, "Pinning incentives"). It knows the contract only through
// the narrow IncentivesPort, which the CLI builds over JSON-RPC; storage never imports the chain.
import { CommitmentBuilder, commitmentProof, LEAF_SIZE } from './commitment.ts'
import { ContentMismatchError } from './errors.ts'
import { readManifest } from './package.ts'
import type { PinningManager } from './pinning.ts'
import type { IoOptions, ModelStore } from './types.ts'

/** A model the pinner may keep: registry id, package manifest CID and digest. */
export interface PinnerCandidate {
  modelId: string
  cid: string
  digest: string
}

/** What the pinner needs from IPFSIncentives (one pinner account). */
export interface IncentivesPort {
  /** The pinner's address. */
  readonly address: string
  currentEpoch(): Promise<bigint>
  /** Declared size and commitment of a model, or undefined when its owner has not set them. */
  modelInfo(modelId: string): Promise<{ commitment: string; size: bigint } | undefined>
  /** Register with `stake` wei unless registered already. */
  ensureRegistered(stake: bigint): Promise<void>
  /** Model ids claimed by this pinner, with the first epoch each is challenged in. */
  claims(): Promise<{ modelId: string; from: bigint }[]>
  claim(modelId: string): Promise<void>
  /** 0 none, 1 passed, 2 failed: this pinner's answer for `modelId` in `epoch`. */
  answerStatus(epoch: bigint, modelId: string): Promise<number>
  /** The seed of `epoch` is drawn (`seedEpoch` ran in it). */
  seeded(epoch: bigint): Promise<boolean>
  seedEpoch(): Promise<void>
  /** This epoch's leaf index for a claimed model (valid once seeded). */
  challengeIndex(modelId: string): Promise<{ open: boolean; epoch: bigint; index: number }>
  /** Answer `epoch`'s challenge (reverts, i.e. throws, when the epoch has moved on). */
  answer(epoch: bigint, modelId: string, leaf: Uint8Array, siblings: string[]): Promise<boolean>
  /** Every registered pinner with the next epoch it needs settling from. */
  pinners(): Promise<{ address: string; settledThrough: bigint }[]>
  settle(pinner: string, throughEpoch: bigint): Promise<void>
  account(): Promise<{ stake: bigint; owed: bigint; earned: bigint; passed: bigint; failed: bigint }>
  withdraw(): Promise<bigint>
}

/** Options of {@link createPinner}. */
export interface PinnerOpts {
  store: ModelStore
  pins: PinningManager
  incentives: IncentivesPort
  /** Models to keep (the glue lists the registry). */
  candidates(): Promise<PinnerCandidate[]>
  /** Stake sent when registering (default 1 ether). */
  stake?: bigint
  /** Withdraw rewards as soon as they are settled (default true). */
  autoWithdraw?: boolean
  /** Told about every action, for logs (default: nothing). */
  onEvent?: (e: PinnerEvent) => void
}

export type PinnerEvent =
  | { type: 'claimed'; modelId: string }
  | { type: 'refused'; modelId: string; reason: string }
  | { type: 'answered'; modelId: string; epoch: bigint; index: number; ok: boolean }
  | { type: 'missed'; modelId: string; epoch: bigint; reason: string }
  | { type: 'settled'; pinner: string; throughEpoch: bigint }
  | { type: 'withdrawn'; amount: bigint }

/** What `lattice pinning summary` shows about incentives. */
export interface PinnerSummary {
  address: string
  stake: string
  rewardsEarned: string
  rewardsWithdrawn: string
  claimedModels: number
  pinnedModels: number
  bytes: number
  challengesPassed: number
  challengesFailed: number
  refused: { modelId: string; reason: string }[]
}

export interface Pinner {
  /** One pass: claim, answer, settle, withdraw. Serialised; call it on every new block. */
  tick(opts?: IoOptions): Promise<void>
  summary(): Promise<PinnerSummary>
}

/** The package bytes in manifest order (what the commitment covers), read from `store`. */
async function* packageBytes(store: ModelStore, cid: string, digest: string, opts: IoOptions) {
  const { manifest } = await readManifest(store, cid, digest, opts)
  for (const f of manifest.files) for (const p of f.parts) yield* store.cat(p.cid, { signal: opts.signal })
}

/** Commitment, size and leaf hashes of a package as stored locally. */
async function localCommitment(store: ModelStore, c: PinnerCandidate, opts: IoOptions) {
  const b = await CommitmentBuilder.create({ keepLeaves: true })
  const leaves: Uint8Array[] = []
  let pending = Buffer.alloc(0)
  for await (const chunk of packageBytes(store, c.cid, c.digest, opts)) {
    b.update(chunk)
    pending = Buffer.concat([pending, chunk])
    while (pending.length >= LEAF_SIZE) {
      leaves.push(pending.subarray(0, LEAF_SIZE))
      pending = pending.subarray(LEAF_SIZE)
    }
  }
  if (pending.length > 0) leaves.push(pending)
  const d = b.digest()
  return { root: d.root, size: BigInt(d.bytes), leafHashes: b.leafHashes!, leaves }
}

/** A pinner over one store and one incentives account. */
export function createPinner(opts: PinnerOpts): Pinner {
  const inc = opts.incentives
  const refused = new Map<string, string>()
  let withdrawn = 0n
  let running: Promise<void> | undefined
  let again = false
  const emit = (e: PinnerEvent) => opts.onEvent?.(e)

  async function pass(io: IoOptions): Promise<void> {
    await inc.ensureRegistered(opts.stake ?? 10n ** 18n)
    const epoch = await inc.currentEpoch()
    const claimed = new Map((await inc.claims()).map((c) => [c.modelId.toLowerCase(), c.from]))

    // claim: pin, then check the commitment of the bytes we hold against the registry's before claiming
    for (const c of await opts.candidates()) {
      const id = c.modelId.toLowerCase()
      if (claimed.has(id) || refused.has(id)) continue
      const info = await inc.modelInfo(c.modelId)
      if (!info) continue
      try {
        await opts.pins.pin(c.cid, { expectedDigest: c.digest, signal: io.signal })
        const local = await localCommitment(opts.store, c, io)
        if (local.root !== info.commitment.toLowerCase()) {
          throw new ContentMismatchError(`commitment of ${c.cid}`, info.commitment, local.root)
        }
        if (local.size !== info.size)
          throw new ContentMismatchError(`size of ${c.cid}`, `${info.size}`, `${local.size}`)
      } catch (err) {
        const reason = (err as Error).message
        refused.set(id, reason)
        emit({ type: 'refused', modelId: c.modelId, reason })
        continue
      }
      await inc.claim(c.modelId)
      emit({ type: 'claimed', modelId: c.modelId })
    }

    // answer this epoch's challenges from the bytes in the local store
    const candidates = new Map((await opts.candidates()).map((c) => [c.modelId.toLowerCase(), c]))
    for (const [id, from] of claimed) {
      if (from > epoch) continue
      if ((await inc.answerStatus(epoch, id)) !== 0) continue
      if (!(await inc.seeded(epoch))) await inc.seedEpoch()
      const ch = await inc.challengeIndex(id)
      if (!ch.open || ch.epoch !== epoch) continue // the epoch moved on meanwhile: next tick
      const c = candidates.get(id)
      try {
        if (!c) throw new ContentMismatchError(`package of ${id}`, 'a registry entry', 'none')
        const local = await localCommitment(opts.store, c, io)
        const proof = await commitmentProof(local.leafHashes, ch.index)
        const ok = await inc.answer(epoch, id, local.leaves[ch.index], proof.siblings)
        emit({ type: 'answered', modelId: id, epoch, index: ch.index, ok })
      } catch (err) {
        emit({ type: 'missed', modelId: id, epoch, reason: (err as Error).message })
      }
    }

    // settle every pinner's finished epochs (anyone may; missed challenges only cost stake once settled)
    for (const p of await inc.pinners()) {
      if (p.settledThrough < epoch) {
        await inc.settle(p.address, epoch)
        emit({ type: 'settled', pinner: p.address, throughEpoch: epoch })
      }
    }
    if (opts.autoWithdraw ?? true) {
      const { owed } = await inc.account()
      if (owed > 0n) {
        const amount = await inc.withdraw()
        withdrawn += amount
        emit({ type: 'withdrawn', amount })
      }
    }
  }

  return {
    tick(io: IoOptions = {}): Promise<void> {
      if (running) {
        again = true
        return running
      }
      running = (async () => {
        try {
          do {
            again = false
            await pass(io)
          } while (again)
        } finally {
          running = undefined
        }
      })()
      return running
    },
    async summary(): Promise<PinnerSummary> {
      const a = await inc.account()
      const claims = await inc.claims()
      const pins = await opts.pins.list()
      return {
        address: inc.address,
        stake: a.stake.toString(),
        rewardsEarned: a.earned.toString(),
        rewardsWithdrawn: withdrawn.toString(),
        claimedModels: claims.length,
        pinnedModels: pins.length,
        bytes: pins.reduce((s, p) => s + p.bytes, 0),
        challengesPassed: Number(a.passed),
        challengesFailed: Number(a.failed),
        refused: [...refused].map(([modelId, reason]) => ({ modelId, reason })),
      }
    },
  }
}
