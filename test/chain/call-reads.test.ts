// eth_call reuses its VM and its trie reads (issue 17): calls at one state share a pooled VM and a
// content-addressed read memo (src/chain/call-reads.ts); a new block or a devnet edit moves an idle VM to the new
// state instead of building one (call-limits.ts withCallVm, calls.ts repositionCallVm). What must not change:
// every call sees exactly its block's state, overrides and a call halted at its deadline leave nothing behind.

import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CallReads, callReadsOf } from '../../src/chain/call-reads.ts'
import type { CallRequest } from '../../src/chain/calls.ts'
import { callTx } from '../../src/chain/calls.ts'
import type { TestDevnet } from '../helpers/devnet.ts'
import { ADDR0, rpc, startTestDevnet } from '../helpers/devnet.ts'

/**
 * Runtime code: empty calldata returns slot 0; one byte of calldata adds 1 to slot 0; two or more bytes store
 * 99 in slot 0 and then loop until halted (a call that writes, then runs into its deadline).
 *   0 CALLDATASIZE PUSH1 0x0f JUMPI | 4 PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
 *  15 JUMPDEST CALLDATASIZE PUSH1 1 EQ PUSH1 0x20 JUMPI | 23 PUSH1 99 PUSH1 0 SSTORE | 28 JUMPDEST PUSH1 0x1c JUMP
 *  32 JUMPDEST PUSH1 1 PUSH1 0 SLOAD ADD PUSH1 0 SSTORE STOP
 */
const RUNTIME =
  '0x36600f5760005460005260206000f3' + '5b3660011460' + '2057' + '6063600055' + '5b601c56' + '5b60016000540160005500'
const CONTRACT = '0x00000000000000000000000000000000000ca11a'
const TIMEOUT_MS = 3000
const word = (n: number) => `0x${n.toString(16).padStart(64, '0')}`

describe('eth_call VM and read reuse', () => {
  let devnet: TestDevnet
  let builds = 0

  async function ok(method: string, params: unknown[]): Promise<any> {
    const res = await rpc(devnet.url, method, params)
    expect(res.error, `${method}: ${JSON.stringify(res.error)}`).toBeUndefined()
    return res.result
  }
  const read = (block: string = 'latest', overrides?: unknown) =>
    ok('eth_call', overrides ? [{ to: CONTRACT }, block, overrides] : [{ to: CONTRACT }, block])
  async function increment(): Promise<string> {
    const hash = await ok('eth_sendTransaction', [{ from: ADDR0, to: CONTRACT, data: '0x01' }])
    const receipt = await ok('eth_getTransactionReceipt', [hash])
    expect(receipt.status).toBe('0x1')
    return receipt.blockNumber
  }

  beforeAll(async () => {
    // a gas cap far above what the loop can burn in TIMEOUT_MS: with geth's 50M cap the loop below ran out of gas
    // before the deadline once the jump analysis was cached (a fast machine runs 50M gas of it in under 3 s)
    devnet = await startTestDevnet({ callLimits: { timeoutMs: TIMEOUT_MS, gasCap: 10n ** 12n } })
    // count the VMs built for calls: the real method still runs
    const chain = devnet.node.chain
    const vmAt = chain.vmAt.bind(chain)
    chain.vmAt = (block) => {
      builds++
      return vmAt(block)
    }
    await ok('anvil_setCode', [CONTRACT, RUNTIME])
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('calls at one state share one VM, and their trie reads are served from the memo', async () => {
    expect(await read()).toBe(word(0))
    const memo = callReadsOf(devnet.node.chain)
    const built = builds
    const misses = memo.misses
    const hits = memo.hits
    for (let i = 0; i < 20; i++) expect(await read()).toBe(word(0))
    expect(builds).toBe(built)
    expect(memo.misses).toBe(misses)
    expect(memo.hits).toBeGreaterThanOrEqual(hits + 20)
  }, 120_000)

  it('a new block moves an idle VM to the new head, and calls see the new state at once', async () => {
    await read()
    const built = builds
    const first = await increment()
    expect(await read()).toBe(word(1))
    const second = await increment()
    expect(await read()).toBe(word(2))
    // a devnet edit moves the head's state without a block
    await ok('anvil_setStorageAt', [CONTRACT, word(0), word(41)])
    expect(await read()).toBe(word(41))
    expect(builds).toBe(built)
    // past blocks, after the head's VM moved on
    expect(await read(first)).toBe(word(1))
    // the head block by number is the head's state, devnet edits included (head-state.ts), as anvil
    expect(await read(second)).toBe(word(41))
    expect(await read()).toBe(word(41))
    await ok('anvil_setStorageAt', [CONTRACT, word(0), word(2)])
  }, 120_000)

  it('state overrides do not leak into the next call', async () => {
    const before = await read()
    const diff = { [CONTRACT]: { stateDiff: { [word(0)]: word(7) } } }
    expect(await read('latest', diff)).toBe(word(7))
    expect(await read()).toBe(before)
    const replaced = { [CONTRACT]: { state: {} } }
    expect(await read('latest', replaced)).toBe(word(0))
    expect(await read()).toBe(before)
    // the memo is keyed by trie root: an overridden code's reads cannot answer for the real one
    const code = { [CONTRACT]: { code: '0x602a60005260206000f3' } }
    expect(await read('latest', code)).toBe(word(42))
    expect(await read()).toBe(before)
    // concurrent calls, with and without overrides, each on its own VM
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => read('latest', i % 2 ? diff : undefined)))
    expect(all).toEqual(all.map((_, i) => (i % 2 ? word(7) : before)))
    expect(await read()).toBe(before)
  }, 120_000)

  it('a call halted at its deadline after writing leaves later calls on that VM correct', async () => {
    const before = await read()
    const res = await rpc(devnet.url, 'eth_call', [{ to: CONTRACT, data: '0x0202', gas: '0xe8d4a51000' }, 'latest'])
    expect(res.error?.message).toMatch(/timeout/i)
    // the halted call stored 99 before it looped: no later call may see it
    for (let i = 0; i < 5; i++) expect(await read()).toBe(before)
    expect(await increment()).toBeDefined()
    expect(await read()).toBe(word(Number(before) + 1))
  }, 120_000)

  it('the same call reuses its transaction; a call that differs in any field gets its own', async () => {
    const chain = devnet.node.chain
    const vm = await chain.vmAt(chain.head)
    const to = createAddressFromString(CONTRACT)
    const req = { to, data: hexToBytes('0x01') }
    const tx = await callTx(chain, req, chain.head, vm)
    expect(await callTx(chain, { ...req }, chain.head, vm)).toBe(tx)
    expect(Object.isFrozen(tx)).toBe(true)
    const others: CallRequest[] = [
      { ...req, data: hexToBytes('0x02') },
      { ...req, nonce: 7n },
      { ...req, gas: 50_000n },
      { ...req, value: 1n },
      { ...req, from: createAddressFromString(ADDR0) },
      { ...req, gasPrice: 10n ** 9n },
      { ...req, accessList: [] },
    ]
    for (const other of others) {
      const made = await callTx(chain, other, chain.head, vm)
      expect(made).not.toBe(tx)
      if (other.nonce !== undefined) expect(made.nonce).toBe(7n)
      if (other.gas !== undefined) expect(made.gasLimit).toBe(50_000n)
    }
    // another VM's Common (another fork could apply) builds its own
    expect(await callTx(chain, req, chain.head, await chain.vmAt(chain.head))).not.toBe(tx)
  }, 120_000)
})

describe('CallReads', () => {
  it('keeps at most its entries and bytes, oldest out first', () => {
    const memo = new CallReads(3, 10)
    memo.set('a', new Uint8Array(4))
    memo.set('b', null)
    memo.set('c', new Uint8Array(4))
    expect(memo.size).toBe(3)
    memo.set('d', new Uint8Array(1))
    expect(memo.size).toBe(3)
    expect(memo.get('a')).toBeUndefined()
    expect(memo.get('b')).toBeNull()
    memo.set('e', new Uint8Array(4))
    expect(memo.get('b')).toBeUndefined()
    expect(memo.size).toBe(3)
    // c, d, e and f are 17 bytes, over 10: the oldest go until it fits
    memo.set('f', new Uint8Array(8))
    expect(memo.size).toBe(1)
    expect(memo.get('f')?.length).toBe(8)
  })
})
