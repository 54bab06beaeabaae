// An AsyncLocalStorage that is switched off between uses.
//
// Why: on Node 20 and 22 an AsyncLocalStorage turns on promise hooks for the whole process at its first run()
// and keeps them on until disable() is called on every store. From then on every promise runs JavaScript hook
// callbacks, and an automined block's execution awaits thousands of them (ethereumjs' state, trie and database
// layers are async throughout): 300 in-process transfers took 15.3-16.3 ms of CPU each with the hooks off and
// 17.9-20.4 ms with them on, after a single eth_call had run under the call limits' context. A ScopedContext
// counts the runs in flight and disables its store when the last one settles, so the hooks are on only while an
// RPC call (or whatever else set a context) is running.
import { AsyncLocalStorage } from 'node:async_hooks'

export class ScopedContext<T> {
  private readonly als = new AsyncLocalStorage<T>()
  private active = 0

  /** Runs in flight (for tests). */
  get inFlight(): number {
    return this.active
  }

  /** Whether the underlying store is enabled (Node 20/22 keep the promise hooks on while any store is). */
  get enabled(): boolean | undefined {
    return (this.als as unknown as { enabled?: boolean }).enabled
  }

  /**
   * Run `fn` with `store` as the context of everything it starts; a promise it returns keeps the context
   * alive until it settles. Work `fn` leaves running after that sees no context once no run is in flight.
   */
  run<R>(store: T, fn: () => R): R {
    this.active++
    let out: R
    try {
      out = this.als.run(store, fn)
    } catch (err) {
      this.settle()
      throw err
    }
    if (out instanceof Promise) return out.finally(() => this.settle()) as R
    this.settle()
    return out
  }

  /** The context of the current execution, or undefined. */
  getStore(): T | undefined {
    return this.active > 0 ? this.als.getStore() : undefined
  }

  private settle(): void {
    if (--this.active === 0) this.als.disable()
  }
}
