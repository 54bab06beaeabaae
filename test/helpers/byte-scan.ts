// The JSON nesting scan as src/rpc/framing.ts had it before strings were crossed with indexOf: byte by byte,
// skipping the byte after a backslash inside a string. The reference its test compares against, and the baseline
// bench/large-input.ts times it against.
export function byteScanNestingExceeds(body: Uint8Array, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}
