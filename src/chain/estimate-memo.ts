// eth_estimateGas runs its call several times (the gas used, geth's optimistic bound, a binary search). The
// precompile's gas is static: it is known from the graph and the input shapes before anything runs
// (src/precompiles/plan.ts), and its outputs depend only on the model and the inputs. So within one estimate
// the model runs once; every later execution that reaches the precompile with the same model and inputs
// is charged the same static gas and gets the same outputs back without running it again. The EVM around it
// then does exactly what it did the first time, so the estimate still equals what the transaction uses.

import { createHash } from 'node:crypto'
import type { SessionCache } from '../inference/cache.ts'
import type { Tensor } from '../inference/tensor.ts'
import { ScopedContext } from '../scoped-context.ts'

/** Counters across the process (tests read them). */
export const estimateMemoStats = { runs: 0, reused: 0 }

// off between uses: an AsyncLocalStorage left on slows every promise of the process (scoped-context.ts)
const current = new ScopedContext<Map<string, Promise<Tensor[]>>>()

/** Run `fn` (one gas estimate) so that each distinct inference it makes runs once. */
export function withInferenceMemo<T>(fn: () => Promise<T>): Promise<T> {
  return current.run(new Map(), fn)
}

function keyOf(digest: string, inputs: readonly Tensor[], decimals: number | undefined): string {
  const h = createHash('sha256').update(`${digest}|${decimals ?? ''}`)
  for (const t of inputs) h.update(`|${t.name}:${t.dtype}:${t.shape.join('x')}:`).update(t.data)
  return h.digest('hex')
}

/**
 * `cache`, with runs inside {@link withInferenceMemo} answered from the first identical run of the same
 * estimate. Outside an estimate (blocks, calls) it is `cache` itself.
 */
export function memoisingSessions(cache: SessionCache): SessionCache {
  return {
    ...cache,
    run(digest, load, inputs, opts) {
      const memo = current.getStore()
      if (!memo) return cache.run(digest, load, inputs, opts)
      const key = keyOf(digest, inputs, opts?.outputDecimals)
      const hit = memo.get(key)
      if (hit) {
        estimateMemoStats.reused++
        return hit
      }
      estimateMemoStats.runs++
      const run = cache.run(digest, load, inputs, opts)
      memo.set(key, run)
      return run
    },
  }
}
