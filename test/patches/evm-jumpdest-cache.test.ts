// patches/ethereumjs-evm-*-jumpdest-cache.patch: the interpreter analysed the jump destinations of a contract's
// whole code on every frame that jumps (every eth_call of a view); the analysis is now kept per opcode map and
// code bytes. The results must be those of a fresh analysis, including code where a 0x5b sits inside PUSH data.
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createEVM } from '@ethereumjs/evm'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { describe, expect, it, vi } from 'vitest'
import { Interpreter } from '../../node_modules/@ethereumjs/evm/dist/esm/interpreter.js'

const TO = createAddressFromString('0x00000000000000000000000000000000000000c0')
// PUSH1 0x06, JUMP, PUSH1 0x5b (a 0x5b in push data: not a destination), INVALID, JUMPDEST, PUSH1 0x2a,
// PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN
const GOOD = hexToBytes('0x600656605bfe5b602a60005260206000f3')
// the same, but jumping into the push data at 0x04: must fail however often it runs
const BAD = hexToBytes('0x600456605bfe5b602a60005260206000f3')

type Analyser = { prototype: { _analyseJumpDestinations: (code: Uint8Array) => unknown } }

describe('evm jumpdest-cache patch', () => {
  it('analyses a code once per EVM opcode map; calls give the results of a fresh analysis', async () => {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
    const evm = await createEVM({ common })
    const analyse = vi.spyOn((Interpreter as unknown as Analyser).prototype, '_analyseJumpDestinations')
    try {
      for (let i = 0; i < 3; i++) {
        const good = await evm.runCode({ code: GOOD, to: TO, gasLimit: 100_000n })
        expect(good.exceptionError).toBeUndefined()
        expect(good.returnValue).toEqual(hexToBytes(`0x${'2a'.padStart(64, '0')}`))
        const bad = await evm.runCode({ code: BAD, to: TO, gasLimit: 100_000n })
        expect(bad.exceptionError?.error).toMatch(/^invalid JUMP/)
      }
      // one analysis per code, not one per run
      expect(analyse).toHaveBeenCalledTimes(2)
      // another EVM (its own opcode map) analyses afresh
      const other = await createEVM({ common: common.copy() })
      expect((await other.runCode({ code: GOOD, to: TO, gasLimit: 100_000n })).exceptionError).toBeUndefined()
      expect(analyse).toHaveBeenCalledTimes(3)
    } finally {
      analyse.mockRestore()
    }
  })
})
