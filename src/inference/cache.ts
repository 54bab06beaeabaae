import { createHash } from 'node:crypto'
import { type CreateSessionOpts, createSession, type OnnxSession, type RunOpts } from './onnx.ts'
import { CONSENSUS_PROFILE, type InferenceProfile } from './profile.ts'
import type { Tensor, TensorLimits } from './tensor.ts'
import { warmUpWasm } from './warm-up.ts'

/** sha256 of model bytes as lowercase hex: the default cache key. */
export function modelDigest(model: Uint8Array): string {
  return createHash('sha256').update(model).digest('hex')
}

/** Options of {@link createSessionCache}. */
export interface SessionCacheOpts {
  /** Most model bytes kept loaded (sum of model file sizes); default 512 MiB. A single larger model still loads. */
  maxBytes?: number
  /** Session options for every entry; default {@link CONSENSUS_PROFILE}. */
  profile?: InferenceProfile
  limits?: TensorLimits
  /** Session factory; default {@link createSession}. */
  create?: (opts: CreateSessionOpts) => Promise<OnnxSession>
  /**
   * Warm the profile's WebAssembly runtime up in the background right away (src/inference/warm-up.ts), so a node's
   * first inferences do not pay its start-up; default false. `LATTICE_INFERENCE_WARMUP=0` turns it off.
   */
  warmUp?: boolean
}

/** Counters of a {@link SessionCache}. */
export interface SessionCacheStats {
  hits: number
  misses: number
  evictions: number
  entries: number
  bytes: number
}

/** Where model bytes come from on a miss. */
export type ModelLoader = () => Uint8Array | Promise<Uint8Array>

/** LRU of loaded sessions keyed by model digest; runs on one session are serialised. */
export interface SessionCache {
  /** The session for `digest`, loading it with `load` on a miss. */
  get(digest: string, load: ModelLoader, opts?: { signal?: AbortSignal }): Promise<OnnxSession>
  /** Run `inputs` on the session for `digest`, after any run already queued on it. */
  run(digest: string, load: ModelLoader, inputs: readonly Tensor[], opts?: RunOpts): Promise<Tensor[]>
  has(digest: string): boolean
  stats(): SessionCacheStats
  /** Dispose every session (waits for queued runs). */
  clear(): Promise<void>
}

interface Entry {
  digest: string
  size: number
  session: Promise<OnnxSession>
  /** Tail of this session's run queue. */
  tail: Promise<unknown>
  pending: number
  retired: boolean
  /** The session once loaded (lets an idle hit skip the queue's extra promise hops). */
  ready?: OnnxSession
}

/** Create a session cache (defaults documented on {@link SessionCacheOpts}). */
export function createSessionCache(opts: SessionCacheOpts = {}): SessionCache {
  const maxBytes = opts.maxBytes ?? 512 << 20
  const profile = opts.profile ?? CONSENSUS_PROFILE
  const create = opts.create ?? createSession
  const entries = new Map<string, Entry>()
  let bytes = 0
  let hits = 0
  let misses = 0
  let evictions = 0
  if (opts.warmUp && profile.wasm && process.env.LATTICE_INFERENCE_WARMUP !== '0') void warmUpWasm(profile)

  const retire = (e: Entry): void => {
    entries.delete(e.digest)
    bytes -= e.size
    evictions++
    e.retired = true
    if (e.pending === 0) dispose(e)
  }

  // a failed load has nothing to dispose
  const dispose = (e: Entry): void => {
    e.session.then((s) => s.dispose()).catch(() => {})
  }

  const evict = (keep: string): void => {
    for (const e of entries.values()) {
      if (bytes <= maxBytes) break
      if (e.digest === keep) continue
      retire(e)
    }
  }

  // loads in flight by digest: concurrent misses on one model share one load of its bytes
  const loading = new Map<string, Promise<Entry>>()

  const entry = async (digest: string, load: ModelLoader, signal?: AbortSignal): Promise<Entry> => {
    const hit = entries.get(digest)
    if (hit) {
      hits++
      entries.delete(digest)
      entries.set(digest, hit)
      return hit
    }
    const inFlight = loading.get(digest)
    if (inFlight) {
      hits++
      return inFlight
    }
    misses++
    signal?.throwIfAborted()
    const p = miss(digest, load, signal)
    loading.set(digest, p)
    try {
      return await p
    } finally {
      loading.delete(digest)
    }
  }

  const miss = async (digest: string, load: ModelLoader, signal?: AbortSignal): Promise<Entry> => {
    const model = await load()
    // a concurrent miss may have loaded it while we awaited the bytes
    const raced = entries.get(digest)
    if (raced) return raced
    const e: Entry = {
      digest,
      size: model.byteLength,
      session: create({ model, profile, limits: opts.limits, signal }),
      tail: Promise.resolve(),
      pending: 0,
      retired: false,
    }
    entries.set(digest, e)
    bytes += e.size
    e.session.then(
      (s) => {
        e.ready = s
      },
      () => {},
    )
    e.session.catch(() => {
      if (entries.get(digest) === e) {
        entries.delete(digest)
        bytes -= e.size
      }
    })
    evict(digest)
    return e
  }

  return {
    async get(digest, load, o = {}) {
      return (await entry(digest, load, o.signal)).session
    },
    run(digest, load, inputs, runOpts) {
      const enqueue = (e: Entry): Promise<Tensor[]> => {
        const done = (): void => {
          e.pending--
          if (e.retired && e.pending === 0) dispose(e)
        }
        // idle and loaded: run now; otherwise after the runs already queued on this session
        const result =
          e.pending === 0 && e.ready
            ? e.ready.run(inputs, runOpts)
            : e.tail.then(async () => (await e.session).run(inputs, runOpts))
        e.pending++
        e.tail = result.then(done, done)
        return result
      }
      const hit = entries.get(digest)
      if (hit?.ready) {
        hits++
        entries.delete(digest)
        entries.set(digest, hit)
        return enqueue(hit)
      }
      return entry(digest, load, runOpts?.signal).then(enqueue)
    },
    has(digest) {
      return entries.has(digest)
    },
    stats() {
      return { hits, misses, evictions, entries: entries.size, bytes }
    },
    async clear() {
      const all = [...entries.values()]
      for (const e of all) retire(e)
      evictions -= all.length
      await Promise.all(
        all.map((e) =>
          e.tail
            .then(() => e.session)
            .then(
              (s) => s.dispose(),
              () => {},
            ),
        ),
      )
    },
  }
}
