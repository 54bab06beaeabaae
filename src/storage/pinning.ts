// Pinning manager: which model packages this node keeps, their sizes and types, reward accounting, and
// pins reported by other nodes. Records live in one JSON file (written temp + rename).
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { InvalidStorageOptionError, ManifestInvalidError } from './errors.ts'
import { normaliseDigest } from './manifest.ts'
import { pinAll, readManifest } from './package.ts'
import type { IoOptions, ModelStore } from './types.ts'

/** Reward schedule: reward per period = ceil(bytes / 1 MiB) x ratePerMiB x weight(modelType) / 100. */
export interface RewardSchedule {
  /** Base units per started MiB per period (default 1_000_000_000n). */
  ratePerMiB: bigint
  /** Percent weights by model type; `default` applies to unlisted types. */
  weights: Record<string, number> & { default: number }
}

export const DEFAULT_REWARD_SCHEDULE: RewardSchedule = {
  ratePerMiB: 1_000_000_000n,
  weights: { default: 100, llm: 150, embedding: 120, detector: 110, classifier: 100, raw: 50 },
}

export interface PinRecord {
  cid: string
  /** `package`: a manifest plus all its parts; `raw`: a single CID. */
  kind: 'package' | 'raw'
  digest?: string
  name?: string
  modelType: string
  bytes: number
  pinnedAt: number
  /** Reward accrued for this pin so far, decimal string of base units. */
  rewards: string
}

export interface ExternalPinReport {
  /** Reporting node (peer id, validator address, URL: opaque here). */
  node: string
  cid: string
  digest?: string
  modelType?: string
  bytes: number
  /** Unix ms; defaults to receipt time. */
  at?: number
}

/** What RPC returns (`lattice_storageSummary` or similar). */
export interface PinningSummary {
  pinnedModels: number
  bytes: number
  byType: Record<string, { models: number; bytes: number }>
  /** Decimal string of base units. */
  rewardsAccrued: string
  external: { nodes: number; pins: number; bytes: number }
}

export interface PinningManagerOpts {
  store: ModelStore
  /** JSON state file, e.g. `pinningStateFile(datadir)`. */
  stateFile: string
  rewards?: RewardSchedule
}

interface State {
  version: 1
  pins: Record<string, PinRecord>
  external: Record<string, ExternalPinReport & { at: number }>
  rewardsAccrued: string
}

export interface PinningManager {
  /** Pin a CID: a model package (manifest + every part) when it is one, else the single DAG. */
  pin(cid: string, opts?: IoOptions & { expectedDigest?: string }): Promise<PinRecord>
  unpin(cid: string, opts?: IoOptions): Promise<void>
  list(): Promise<PinRecord[]>
  /** Record a pin held by another node; replaces that node's earlier report for the same CID. */
  reportExternalPin(report: ExternalPinReport): Promise<void>
  externalPins(): Promise<(ExternalPinReport & { at: number })[]>
  /** Credit `periods` reward periods to every current pin; returns the amount added. */
  accrue(periods?: number): Promise<bigint>
  summary(): Promise<PinningSummary>
}

/** Reward for one pin for one period under a schedule. */
export function rewardPerPeriod(
  bytes: number,
  modelType: string,
  schedule: RewardSchedule = DEFAULT_REWARD_SCHEDULE,
): bigint {
  const mib = BigInt(Math.ceil(bytes / (1024 * 1024)))
  const weight = BigInt(schedule.weights[modelType] ?? schedule.weights.default)
  return (mib * schedule.ratePerMiB * weight) / 100n
}

/** Create a pinning manager over a store and a state file. */
export function createPinningManager(opts: PinningManagerOpts): PinningManager {
  const schedule = opts.rewards ?? DEFAULT_REWARD_SCHEDULE
  let chain: Promise<unknown> = Promise.resolve()
  /** serialise read-modify-write of the state file within this process */
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn)
    chain = next.catch(() => {})
    return next
  }

  async function load(): Promise<State> {
    try {
      return JSON.parse(await readFile(opts.stateFile, 'utf8')) as State
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { version: 1, pins: {}, external: {}, rewardsAccrued: '0' }
      throw err
    }
  }
  async function save(s: State): Promise<void> {
    await mkdir(dirname(opts.stateFile), { recursive: true })
    const tmp = `${opts.stateFile}.${randomBytes(6).toString('hex')}.tmp`
    await writeFile(tmp, `${JSON.stringify(s, null, 2)}\n`)
    await rename(tmp, opts.stateFile)
  }

  return {
    async pin(cid, io = {}) {
      let record: PinRecord
      try {
        const { manifest, digest } = await readManifest(opts.store, cid, io.expectedDigest, io)
        const parts = manifest.files.flatMap((f) => f.parts.map((p) => p.cid))
        await pinAll(opts.store, [...new Set(parts), cid], io.signal)
        record = {
          cid,
          kind: 'package',
          digest,
          name: manifest.name,
          modelType: manifest.modelType,
          bytes: manifest.totalSize,
          pinnedAt: Date.now(),
          rewards: '0',
        }
      } catch (err) {
        // not a package manifest: pin the DAG as it is (unless a digest was demanded)
        if (!(err instanceof ManifestInvalidError) || io.expectedDigest !== undefined) throw err
        await opts.store.pin(cid, io)
        const st = await opts.store.stat(cid, io)
        record = { cid, kind: 'raw', modelType: 'raw', bytes: st.size, pinnedAt: Date.now(), rewards: '0' }
      }
      return locked(async () => {
        const s = await load()
        const prev = s.pins[cid]
        s.pins[cid] = prev ? { ...record, pinnedAt: prev.pinnedAt, rewards: prev.rewards } : record
        await save(s)
        return s.pins[cid]
      })
    },

    async unpin(cid, io = {}) {
      const rec = (await load()).pins[cid]
      if (rec?.kind === 'package') {
        const { manifest } = await readManifest(opts.store, cid, rec.digest, io)
        await opts.store.unpin(cid, io).catch(() => {})
        // keep parts shared with another pinned package
        const others = new Set<string>()
        for (const other of Object.values((await load()).pins)) {
          if (other.cid === cid || other.kind !== 'package') continue
          const m = await readManifest(opts.store, other.cid, other.digest, io).catch(() => undefined)
          for (const f of m?.manifest.files ?? []) for (const p of f.parts) others.add(p.cid)
        }
        for (const f of manifest.files) {
          for (const p of f.parts) if (!others.has(p.cid)) await opts.store.unpin(p.cid, io).catch(() => {})
        }
      } else {
        await opts.store.unpin(cid, io)
      }
      await locked(async () => {
        const s = await load()
        delete s.pins[cid]
        await save(s)
      })
    },

    async list() {
      return Object.values((await load()).pins).sort((a, b) => a.pinnedAt - b.pinnedAt)
    },

    async reportExternalPin(report) {
      if (!report.node || !report.cid || !Number.isSafeInteger(report.bytes) || report.bytes < 0) {
        throw new InvalidStorageOptionError('external pin report', report, '{ node, cid, bytes >= 0 }')
      }
      await locked(async () => {
        const s = await load()
        s.external[`${report.node} ${report.cid}`] = {
          ...report,
          digest: report.digest ? normaliseDigest(report.digest) : undefined,
          at: report.at ?? Date.now(),
        }
        await save(s)
      })
    },

    async externalPins() {
      return Object.values((await load()).external)
    },

    async accrue(periods = 1) {
      if (!Number.isSafeInteger(periods) || periods < 0)
        throw new InvalidStorageOptionError('periods', periods, 'an integer >= 0')
      return locked(async () => {
        const s = await load()
        let added = 0n
        for (const rec of Object.values(s.pins)) {
          const r = rewardPerPeriod(rec.bytes, rec.modelType, schedule) * BigInt(periods)
          rec.rewards = (BigInt(rec.rewards) + r).toString()
          added += r
        }
        s.rewardsAccrued = (BigInt(s.rewardsAccrued) + added).toString()
        await save(s)
        return added
      })
    },

    async summary() {
      const s = await load()
      const pins = Object.values(s.pins)
      const byType: PinningSummary['byType'] = {}
      for (const p of pins) {
        byType[p.modelType] ??= { models: 0, bytes: 0 }
        const t = byType[p.modelType]
        t.models++
        t.bytes += p.bytes
      }
      const ext = Object.values(s.external)
      return {
        pinnedModels: pins.filter((p) => p.kind === 'package').length,
        bytes: pins.reduce((a, p) => a + p.bytes, 0),
        byType,
        rewardsAccrued: s.rewardsAccrued,
        external: {
          nodes: new Set(ext.map((e) => e.node)).size,
          pins: ext.length,
          bytes: ext.reduce((a, e) => a + e.bytes, 0),
        },
      }
    },
  }
}
