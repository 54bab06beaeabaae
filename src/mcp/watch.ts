// Polls the node for new blocks and, when the registry's models changed (registered, updated, deprecated,
// repriced), tells every subscriber so that each MCP session can send resources/list_changed.
import type { IndexedModel } from '../chain/registry-index.ts'
import type { McpContext } from './context.ts'
import type { ModelCatalog } from './models.ts'

/** Options for {@link createRegistryWatcher}. */
export interface RegistryWatcherOpts {
  ctx: McpContext
  catalog: ModelCatalog
  /** Poll period in milliseconds (default 2000). */
  intervalMs?: number
  /** Told about a failed poll (the node down, say); polling goes on. */
  onError?: (err: unknown) => void
}

/** A running watcher. */
export interface RegistryWatcher {
  /** Call `fn` on every change; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void
  /** Poll now (after this server sent a transaction) instead of waiting for the next tick. */
  poke(): void
  close(): void
}

/** What makes a model's resource change: anything its card shows that the registry can change. */
const fingerprint = (models: IndexedModel[]) =>
  models.map((m) => [m.modelId, m.status, m.policy, m.price, m.next ?? '', m.updatedBlock].join(':')).join('|')

/** Start polling; the first poll sets the baseline and notifies nobody. */
export function createRegistryWatcher(opts: RegistryWatcherOpts): RegistryWatcher {
  const subscribers = new Set<() => void>()
  let lastBlock: string | undefined
  let lastModels: string | undefined
  let running: Promise<void> | undefined
  let closed = false

  // a change is told twice, one poll apart: a session whose event stream was still opening misses the first
  // (streamable HTTP drops a notification with no stream to carry it); a repeated list_changed is harmless
  let repeat = false
  const notify = () => {
    for (const fn of subscribers) fn()
  }

  async function poll(): Promise<void> {
    if (repeat) {
      repeat = false
      notify()
    }
    const head = await opts.ctx.call<string>('eth_blockNumber')
    if (head === lastBlock) return
    const models = fingerprint(await opts.catalog.all())
    lastBlock = head
    if (lastModels !== undefined && models !== lastModels) {
      notify()
      repeat = true
    }
    lastModels = models
  }

  const tick = () => {
    if (closed || running) return
    running = poll()
      .catch((err) => opts.onError?.(err))
      .finally(() => {
        running = undefined
      })
  }
  const timer = setInterval(tick, opts.intervalMs ?? 2000)
  timer.unref()
  tick()

  return {
    subscribe(fn) {
      subscribers.add(fn)
      return () => subscribers.delete(fn)
    },
    poke: tick,
    close() {
      closed = true
      clearInterval(timer)
    },
  }
}
