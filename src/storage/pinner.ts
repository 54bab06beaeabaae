// The pinner: keeps claimed model packages in this node's IPFS store and earns IPFSIncentives rewards by
// answering storage challenges (docs/storage.md, "Pinning incentives"). Run with a verifier's key (a genesis
// validator) it also verifies models: it fetches each pending package and reports the size and commitment it
// computed from the bytes. It knows the contract only through the narrow IncentivesPort, which the CLI builds
// over JSON-RPC; storage never imports the chain.
import { CommitmentBuilder, commitmentProof, computeCommitment, LEAF_SIZE } from './commitment.ts'
import { ContentMismatchError, ManifestInvalidError, PackageDigestMismatchError } from './errors.ts'
import { readManifest } from './package.ts'
import type { PinningManager } from './pinning.ts'
import type { IoOptions, ModelStore } from './types.ts'

/** A model the pinner may keep: registry id, package manifest CID and digest. */
export interface PinnerCandidate {
  modelId: string
  cid: string
  digest: string
}

/** Where a model stands in IPFSIncentives: only verified models can be claimed and earn. */
export type ModelState = 'pending' | 'verified' | 'rejected'

/** What the pinner needs from IPFSIncentives (one pinner account). */
export interface IncentivesPort {
  /** The pinner's address. */
  readonly address: string
  currentEpoch(): Promise<bigint>
  /** Declared size, commitment and verification state of a model, or undefined when its owner has not set them. */
  modelInfo(modelId: string): Promise<{ commitment: string; size: bigint; state: ModelState } | undefined>
  /** This account may verify models (a genesis validator). */
  isVerifier(): Promise<boolean>
  /** Models waiting for a verifier. */
  pendingModels(): Promise<string[]>
  /** Report the size and commitment computed from a pending model's bytes (0 and 0x0…0: unobtainable as declared). */
  attest(modelId: string, size: bigint, commitment: string): Promise<void>
  /** Register with `stake` wei unless registered already. */
  ensureRegistered(stake: bigint): Promise<void>
  /** Model ids claimed by this pinner, with the first epoch each is challenged in. */
  claims(): Promise<{ modelId: string; from: bigint }[]>
  claim(modelId: string): Promise<void>
  /** 0 none, 1 passed, 2 failed: this pinner's answer for `modelId` in `epoch`. */
  answerStatus(epoch: bigint, modelId: string): Promise<number>
  /** Round `epoch`'s leaf index for a claimed model; `open` while the round takes this pinner's answer. */
  challengeAt(modelId: string, epoch: bigint): Promise<{ open: boolean; index: number }>
  /** Answer round `epoch`'s challenge (reverts, i.e. throws, once its window has closed). */
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
  /** Claim models and answer challenges (default true; false: only verify, when the account is a verifier). */
  claim?: boolean
  /** Told about every action, for logs (default: nothing). */
  onEvent?: (e: PinnerEvent) => void
}

export type PinnerEvent =
  | { type: 'verified'; modelId: string; ok: boolean; size: bigint; commitment: string }
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

  let verifier: boolean | undefined

  // verify: read each pending package (manifest digest checked, every block checked against its CID),
  // recompute size and commitment from its bytes and report them; the contract compares them with what the
  // owner declared. A package that is there but not what its registry entry says is reported as 0/0
  // (rejected); one that cannot be read now is tried again later. Verifying pins nothing: claiming does.
  async function verify(io: IoOptions): Promise<void> {
    verifier ??= await inc.isVerifier()
    if (!verifier) return
    const pending = await inc.pendingModels()
    if (pending.length === 0) return
    const byId = new Map((await opts.candidates()).map((c) => [c.modelId.toLowerCase(), c]))
    for (const id of pending) {
      const c = byId.get(id.toLowerCase())
      if (!c) continue
      let size = 0n
      let root = `0x${'00'.repeat(32)}`
      try {
        // streamed: O(log n) memory whatever the package size
        const local = await computeCommitment(packageBytes(opts.store, c.cid, c.digest, io))
        size = BigInt(local.bytes)
        root = local.root
      } catch (err) {
        const definite =
          err instanceof PackageDigestMismatchError ||
          err instanceof ManifestInvalidError ||
          err instanceof ContentMismatchError
        if (!definite) continue
      }
      await inc.attest(id, size, root)
      const info = await inc.modelInfo(id)
      emit({ type: 'verified', modelId: id, ok: info?.state === 'verified', size, commitment: root })
    }
  }

  async function pass(io: IoOptions): Promise<void> {
    await verify(io)
    if (opts.claim === false) return
    await inc.ensureRegistered(opts.stake ?? 10n ** 18n)
    const epoch = await inc.currentEpoch()
    const claimed = new Map((await inc.claims()).map((c) => [c.modelId.toLowerCase(), c.from]))

    // claim verified models: pin, then check the commitment of the bytes we hold against the contract's
    for (const c of await opts.candidates()) {
      const id = c.modelId.toLowerCase()
      if (claimed.has(id) || refused.has(id)) continue
      const info = await inc.modelInfo(c.modelId)
      if (info?.state !== 'verified') continue
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

    // answer the open rounds (the previous one still takes answers, then the current one) from the local bytes
    const candidates = new Map((await opts.candidates()).map((c) => [c.modelId.toLowerCase(), c]))
    for (const [id, from] of claimed) {
      for (const round of epoch > 0n ? [epoch - 1n, epoch] : [epoch]) {
        if (round === 0n || from > round) continue
        if ((await inc.answerStatus(round, id)) !== 0) continue
        const ch = await inc.challengeAt(id, round)
        if (!ch.open) continue
        const c = candidates.get(id)
        try {
          if (!c) throw new ContentMismatchError(`package of ${id}`, 'a registry entry', 'none')
          const local = await localCommitment(opts.store, c, io)
          const proof = await commitmentProof(local.leafHashes, ch.index)
          const ok = await inc.answer(round, id, local.leaves[ch.index], proof.siblings)
          emit({ type: 'answered', modelId: id, epoch: round, index: ch.index, ok })
        } catch (err) {
          emit({ type: 'missed', modelId: id, epoch: round, reason: (err as Error).message })
        }
      }
    }

    // settle every pinner's finished rounds (round e is finished once epoch e + 2 begins; anyone may settle,
    // and missed challenges only cost stake once settled)
    const through = epoch - 1n
    for (const p of await inc.pinners()) {
      if (through > 0n && p.settledThrough < through) {
        await inc.settle(p.address, through)
        emit({ type: 'settled', pinner: p.address, throughEpoch: through })
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
