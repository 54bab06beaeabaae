// File order for `npm test`: the longest files first, so the two workers finish together instead of one worker
// starting a two-minute e2e file while the other has nothing left to run.
import { readFileSync } from 'node:fs'
import type { TestSpecification } from 'vitest/node'
import { BaseSequencer } from 'vitest/node'

/**
 * Wall time per file (ms, path relative to the repository root) measured on a clean clone of a loaded 2-core
 * machine (test/helpers/durations.json). Vitest's own results cache knows better once a run has finished here,
 * but a clean clone has none, and without it vitest starts the largest files first, which is not the same.
 */
function measured(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8')) as Record<string, number>
  } catch {
    return {}
  }
}

/** Longest first: this machine's last result for the file, else the committed measurement, else first (unknown). */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const table = measured()
    const root = this.ctx.config.root
    const duration = (f: TestSpecification): number => {
      const rel = f.moduleId.startsWith(`${root}/`) ? f.moduleId.slice(root.length + 1) : f.moduleId
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${rel}`)
      return cached?.duration ?? table[rel] ?? Number.POSITIVE_INFINITY
    }
    const sorted = await super.sort(files)
    return sorted
      .map((f, i) => ({ f, i, d: duration(f) }))
      .sort((a, b) => b.d - a.d || a.i - b.i)
      .map(({ f }) => f)
  }
}
