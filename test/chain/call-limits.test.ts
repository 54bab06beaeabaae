// src/chain/call-limits.ts guardEvm: an RPC call's EVM runs its precompiles under the request's run deadline, so
// an inference it starts is abandoned at the deadline also when the limits were handed down (eth_call) rather
// than set as a context.
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import type { EVM, ExecResult } from '@ethereumjs/evm'
import { createEVM } from '@ethereumjs/evm'
import { createAddressFromString } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { CallLimits, guardEvm } from '../../src/chain/call-limits.ts'
import { currentRunSignal } from '../../src/inference/run-deadline.ts'

const PRECOMPILE = createAddressFromString('0x0000000000000000000000000000000000000a11')

describe('guardEvm', () => {
  it('runs precompiles under the limits it was lent, and without them once they are taken back', async () => {
    const signals: (AbortSignal | undefined)[] = []
    const evm = (await createEVM({
      common: new Common({ chain: Mainnet, hardfork: Hardfork.Prague }),
      customPrecompiles: [
        {
          address: PRECOMPILE,
          function: async (): Promise<ExecResult> => {
            await Promise.resolve()
            signals.push(currentRunSignal())
            return { returnValue: new Uint8Array(), executionGasUsed: 0n }
          },
        },
      ],
    })) as EVM
    const limits = new CallLimits({ timeoutMs: 60_000 })
    guardEvm(evm, limits)
    await evm.runCall({ to: PRECOMPILE, gasLimit: 100_000n })
    expect(signals[0]).toBe(limits.signal)
    // lent to another request
    const next = new CallLimits({ timeoutMs: 60_000 })
    guardEvm(evm, next)
    await evm.runCall({ to: PRECOMPILE, gasLimit: 100_000n })
    expect(signals[1]).toBe(next.signal)
    limits.settle()
    next.settle()
    // outside a request: no deadline
    expect(currentRunSignal()).toBeUndefined()
  })
})
