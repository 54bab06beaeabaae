// Memoised `Common.updateParams`.
//
// Why: ethereumjs calls `common.updateParams(paramsTx)` in every transaction constructor (and the block,
// EVM and VM constructors do the same with theirs). Each call deep-copies the touched parameter sets
// through JSON and rebuilds the whole hardfork parameter cache, though after the first call nothing
// changes: a transaction decode spent about 25 of its 40 µs there.
//
// Exactness: `param()` reads the parameter cache, a fresh object each time ethereumjs rebuilds it. A call
// is skipped only when this very cache object was built while every value of the set held in `_params`,
// so the merge and rebuild would give the same cache. The record is keyed by the cache object, not by the
// Common: `Common.copy()` (every transaction makes one) shares `_params` and the cache with its original,
// and a copy's update changes the shared `_params` without rebuilding the original's cache.
import { paramsBlock } from '@ethereumjs/block'
import type { Common, ParamsDict } from '@ethereumjs/common'
import { paramsTx } from '@ethereumjs/tx'

type Internals = {
  _params: ParamsDict
  _paramsCache: object
  _buildParamsCache(): void
  [MEMOISED]?: true
}

// parameter sets known to be reflected in each built cache (the sets are ethereumjs' module constants)
const included = new WeakMap<object, ParamsDict[]>()
const MEMOISED = Symbol('lattice.memoisedParams')

/**
 * Make `common.updateParams` (and its copies') skip calls that would change nothing; returns `common`.
 * The transaction and block parameter sets are applied to `common` here: ethereumjs applies them only
 * to the copy each transaction and header makes, so the original's cache would never reflect them.
 */
export function memoiseUpdateParams<C extends Common>(common: C): C {
  const internals = common as unknown as Internals
  if (internals[MEMOISED]) return common
  internals[MEMOISED] = true
  const update = common.updateParams
  const build = internals._buildParamsCache
  // own properties, so that copies (Object.assign of the instance) carry them
  internals._buildParamsCache = function buildParamsCache(this: Internals): void {
    const before = included.get(this._paramsCache) ?? []
    build.call(this)
    // a rebuild (a hardfork switch, an update) keeps every set whose values still hold
    included.set(
      this._paramsCache,
      before.filter((p) => holds(this._params, p)),
    )
  }
  common.updateParams = function updateParams(this: Common, params: ParamsDict): void {
    const self = this as unknown as Internals
    if (included.get(self._paramsCache)?.includes(params)) return
    update.call(this, params)
    const now = included.get(self._paramsCache)
    if (now) now.push(params)
    else included.set(self._paramsCache, [params])
  }
  common.updateParams(paramsTx)
  common.updateParams(paramsBlock)
  return common
}

/** Whether every value in `update` already holds in `current` (primitives only; anything else: no). */
function holds(current: ParamsDict, update: ParamsDict): boolean {
  for (const [eip, values] of Object.entries(update)) {
    const have = current[eip] as Record<string, unknown> | undefined
    if (!have) return false
    for (const [name, value] of Object.entries(values)) {
      if (value !== null && typeof value === 'object') return false
      if (have[name] !== value) return false
    }
  }
  return true
}
