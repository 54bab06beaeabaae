import { describe, expect, it } from 'vitest'
import { CallTimeoutError } from '../../src/chain/errors.ts'
import { parseDuration, parseRpcLimitFlags } from '../../src/cli/rpc-flags.ts'

describe('--rpc.gascap / --rpc.evmtimeout', () => {
  it('reads Go durations and geth defaults', () => {
    expect(parseDuration('5s')).toBe(5000)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('300ms')).toBe(300)
    expect(parseDuration('1m30s')).toBe(90_000)
    expect(parseDuration('0')).toBe(0)
    expect(parseRpcLimitFlags({})).toEqual({ gasCap: 50_000_000n, timeoutMs: 5000 })
    expect(parseRpcLimitFlags({ 'rpc.gascap': '0', 'rpc.evmtimeout': '2s' })).toEqual({ gasCap: 0n, timeoutMs: 2000 })
  })

  it('refuses what is not a duration or an amount of gas, naming the flag', () => {
    for (const bad of ['5', 'five', '5s junk', '-1s', '']) expect(() => parseDuration(bad)).toThrow(/--rpc.evmtimeout/)
    expect(() => parseRpcLimitFlags({ 'rpc.gascap': '5e7' })).toThrow(/--rpc.gascap/)
  })

  it('prints the timeout as geth does', () => {
    expect(new CallTimeoutError(5000).message).toBe('execution aborted (timeout = 5s)')
    expect(new CallTimeoutError(1500).message).toBe('execution aborted (timeout = 1.5s)')
    expect(new CallTimeoutError(300).message).toBe('execution aborted (timeout = 300ms)')
  })
})
