// Node 20 lacks Promise.withResolvers, which libp2p/helia call at import time.
// This module must be evaluated before any of them (first import of the CLI; vitest setupFiles).
if (typeof (Promise as any).withResolvers !== 'function') {
  ;(Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}

export {}
