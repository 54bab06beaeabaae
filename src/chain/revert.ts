import { bytesToBigInt, bytesToHex } from '@ethereumjs/util'

const ERROR_SELECTOR = '0x08c379a0' // Error(string)
const PANIC_SELECTOR = '0x4e487b71' // Panic(uint256)

/** The human reason inside revert data: Error(string) text or "panic: 0x..", else undefined. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined
  const selector = bytesToHex(data.subarray(0, 4))
  try {
    if (selector === ERROR_SELECTOR && data.length >= 68) {
      const offset = Number(bytesToBigInt(data.subarray(4, 36)))
      const len = Number(bytesToBigInt(data.subarray(4 + offset, 36 + offset)))
      const start = 36 + offset
      if (start + len > data.length) return undefined
      return new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(start, start + len))
    }
    if (selector === PANIC_SELECTOR && data.length >= 36) {
      return `panic: 0x${bytesToBigInt(data.subarray(4, 36)).toString(16).padStart(2, '0')}`
    }
  } catch {
    return undefined
  }
  return undefined
}
