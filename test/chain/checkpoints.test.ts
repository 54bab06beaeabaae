// The node's guard against open state checkpoints (issue 11 item 1): a precompile that throws into ethereumjs
// leaves its frame's checkpoint open; the node must notice, roll back and fail loudly instead of silently
// never flushing state again.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecResult } from '@ethereumjs/evm'
import { createAddressFromString } from '@ethereumjs/util'
import { afterAll, describe, expect, it } from 'vitest'
import { deriveDevAccounts } from '../../src/chain/accounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { assertCheckpointDepth, checkpointDepth } from '../../src/chain/checkpoints.ts'
import { OpenCheckpointError } from '../../src/chain/errors.ts'
import { loadChainSpec } from '../../src/chain/genesis.ts'
import { LatticeNode } from '../../src/chain/node.ts'
import { ADDR0, ADDR1 } from '../helpers/devnet.ts'

const tmp = mkdtempSync(join(tmpdir(), 'lattice-checkpoints-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** A precompile that throws, as the inference precompile once did on a node-side error. */
const THROWER = '0x0000000000000000000000000000000000000b0b'
const thrower = {
  address: createAddressFromString(THROWER),
  function: async (): Promise<ExecResult> => {
    throw new Error('node-side failure inside a precompile')
  },
}

describe('open checkpoint guard', () => {
  it('assertCheckpointDepth rolls back what is open and throws OpenCheckpointError', async () => {
    const spec = loadChainSpec()
    const chain = await Chain.open({ datadir: join(tmp, 'a'), spec })
    try {
      const root = chain.head.header.stateRoot
      const addr = createAddressFromString(ADDR1)
      const before = (await chain.stateManager.getAccount(addr))?.balance
      await chain.stateManager.checkpoint()
      await chain.stateManager.checkpoint()
      const acct = (await chain.stateManager.getAccount(addr))!
      acct.balance = 1n
      await chain.stateManager.putAccount(addr, acct)
      expect(checkpointDepth(chain.vm)).toBe(2)
      await expect(assertCheckpointDepth(chain.vm, 'a test', 0, root)).rejects.toThrow(OpenCheckpointError)
      expect(checkpointDepth(chain.vm)).toBe(0)
      expect((await chain.stateManager.getAccount(addr))?.balance).toBe(before)
      await expect(assertCheckpointDepth(chain.vm, 'a test')).resolves.toBeUndefined()
    } finally {
      await chain.close()
    }
  })

  it('an eth_call into a throwing precompile fails loudly, and the chain still writes and reopens', async () => {
    const spec = loadChainSpec()
    const datadir = join(tmp, 'b')
    const chain = await Chain.open({ datadir, spec, evmOpts: { customPrecompiles: [thrower] } })
    const node = new LatticeNode({ chain, devAccounts: deriveDevAccounts(spec.lattice.devMnemonic, 2) })
    let head: { number: bigint; root: string }
    try {
      const err = await node.call({ to: createAddressFromString(THROWER) }, chain.head).catch((e) => e)
      // ethereumjs rethrew the precompile's error with its frame checkpoint open; the guard caught that
      expect(err).toBeInstanceOf(OpenCheckpointError)
      expect(err.message).toMatch(
        /^internal error: a call \(eth_call, eth_estimateGas\) left 1 state checkpoint\(s\) open/,
      )
      expect(checkpointDepth(chain.vm)).toBe(0)
      await node.sendTransaction({
        from: createAddressFromString(ADDR0),
        to: createAddressFromString(ADDR1),
        value: 7n,
      })
      expect(chain.head.header.number).toBe(1n)
      head = { number: chain.head.header.number, root: Buffer.from(chain.head.header.stateRoot).toString('hex') }
    } finally {
      await node.close()
    }
    const again = await Chain.open({ datadir, spec })
    try {
      expect(again.head.header.number).toBe(head.number)
      expect(Buffer.from(again.head.header.stateRoot).toString('hex')).toBe(head.root)
      const sm = await again.stateAt(again.head)
      expect((await sm.getAccount(createAddressFromString(ADDR1)))?.balance).toBeGreaterThan(0n)
    } finally {
      await again.close()
    }
  })
})
