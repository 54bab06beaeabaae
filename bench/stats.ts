// Figures the benches print: the median of a set of measurements (the mean of the middle two for an even count,
// NaN for none), and milliseconds with three significant digits, alone, as a spread, or as "median (min–max)".

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** 12.3, 1.23, 0.123 */
export const fmtMs = (x: number): string => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3))

/** "min–max" */
export const spread = (xs: readonly number[]): string => `${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}`

/** "median (min–max)" */
export const cell = (xs: readonly number[]): string => `${fmtMs(median(xs))} (${spread(xs)})`
