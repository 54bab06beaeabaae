// Devnet state edits and impersonation (anvil_setBalance/Code/Nonce/StorageAt, anvil_impersonateAccount,
// anvil_reset, anvil_dumpState/loadState): anvil's semantics. An edit changes the head's state without mining, under
// the chain lock; the new root is recorded in head-state.ts so every reader sees it and the next block builds on it.
import { randomBytes } from 'node:crypto'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import type { Address } from '@ethereumjs/util'
import { bytesToHex, createAccount, setLengthLeft } from '@ethereumjs/util'
import { INFERENCE_PRECOMPILE_ADDRESS, MODEL_REGISTRY_ADDRESS } from '../precompiles/addresses.ts'
import type { Chain } from './chain.ts'
import { clearDevHeader } from './dev-header.ts'
import { ProtectedStateError } from './errors.ts'
import { setHeadStateRoot, stateRootOf } from './head-state.ts'
import type { LatticeNode } from './node.ts'
import { dumpStateLines, loadStateLines } from './state-dump.ts'

/**
 * The accounts whose code and storage no edit may touch: the registry holds every model's access policy and
 * price, the precompile's address must stay the precompile (the same rule as eth_call overrides, overrides.ts).
 */
const PROTECTED = new Map([
  [MODEL_REGISTRY_ADDRESS.toLowerCase(), 'ModelRegistry'],
  [INFERENCE_PRECOMPILE_ADDRESS.toLowerCase(), 'the inference precompile'],
])

const randomId = () => bytesToHex(randomBytes(32))

/** Devnet-only state edits and impersonated senders of one node. */
export class DevState {
  private readonly impersonated = new Set<string>()
  /** anvil_autoImpersonateAccount: every address may send without a key. */
  autoImpersonate = false
  /** hardhat_metadata's instanceId: random, new at every start and reset. */
  instanceId = randomId()

  constructor(private readonly node: LatticeNode) {
    node.impersonating = (from) => this.isImpersonated(from)
  }

  isImpersonated(addr: Address): boolean {
    return this.autoImpersonate || this.impersonated.has(addr.toString())
  }

  impersonate(addr: Address): void {
    this.impersonated.add(addr.toString())
  }

  stopImpersonating(addr: Address): void {
    this.impersonated.delete(addr.toString())
  }

  setBalance(addr: Address, balance: bigint): Promise<void> {
    return this.edit(async (sm) => {
      const acct = (await sm.getAccount(addr)) ?? createAccount({})
      acct.balance = balance
      await sm.putAccount(addr, acct)
    })
  }

  setNonce(addr: Address, nonce: bigint): Promise<void> {
    return this.edit(async (sm) => {
      const acct = (await sm.getAccount(addr)) ?? createAccount({})
      acct.nonce = nonce
      await sm.putAccount(addr, acct)
    })
  }

  setCode(addr: Address, code: Uint8Array, method = 'anvil_setCode'): Promise<void> {
    this.refuseProtected(addr, method)
    return this.edit(async (sm) => {
      if (!(await sm.getAccount(addr))) await sm.putAccount(addr, createAccount({}))
      await sm.putCode(addr, code)
    })
  }

  /** Set one slot; `value` up to 32 bytes (all zero clears it). */
  setStorageAt(addr: Address, slot: Uint8Array, value: Uint8Array, method = 'anvil_setStorageAt'): Promise<void> {
    this.refuseProtected(addr, method)
    return this.edit(async (sm) => {
      if (!(await sm.getAccount(addr))) await sm.putAccount(addr, createAccount({}))
      await sm.putStorage(addr, setLengthLeft(slot, 32), setLengthLeft(value, 32))
    })
  }

  /** anvil_reset: back to genesis, with an empty pool, the wall clock and no impersonation. */
  async reset(): Promise<void> {
    const { chain } = this.node
    await chain.exclusive(async () => {
      await chain.resetHead(0n)
      // a devnet at genesis with edits: resetHead leaves the head where it is
      await chain.stateManager.setStateRoot(chain.head.header.stateRoot)
      setHeadStateRoot(chain, chain.head.header.stateRoot)
      this.node.pool.clear()
      this.node.clock.restore({ timeOffset: 0n })
      clearDevHeader(chain)
    })
    this.impersonated.clear()
    this.autoImpersonate = false
    this.instanceId = randomId()
    this.node.emit('reorg', chain.head)
  }

  /**
   * anvil_dumpState: the head state as dump lines (state-dump.ts). The root is fixed under the lock; the
   * lines are read afterwards from content-addressed nodes, so block production goes on meanwhile.
   */
  async dump(): Promise<AsyncGenerator<string>> {
    const { chain } = this.node
    const { root, number } = await chain.exclusive(async () => ({
      root: await chain.stateManager.getStateRoot(),
      number: chain.head.header.number,
    }))
    return dumpStateLines(chain, root, number)
  }

  /** anvil_loadState: merge dump lines (ours or anvil's) into the head state. */
  load(lines: Iterable<string>): Promise<void> {
    return loadIntoHeadState(this.node.chain, lines)
  }

  private refuseProtected(addr: Address, method: string): void {
    const name = PROTECTED.get(addr.toString().toLowerCase())
    if (name)
      throw new ProtectedStateError(method, addr.toString(), `the code and storage of ${name} cannot be changed`)
  }

  /** Apply `fn` to the head state under the chain lock, flush it, and make the new root the head's. */
  private edit(fn: (sm: MerkleStateManager) => Promise<void>): Promise<void> {
    const { chain } = this.node
    return chain.exclusive(async () => {
      try {
        await fn(chain.stateManager)
        setHeadStateRoot(chain, await chain.stateManager.getStateRoot())
      } catch (err) {
        await chain.stateManager.setStateRoot(stateRootOf(chain, chain.head))
        throw err
      }
    })
  }
}

/** Merge dump lines (ours or anvil's) into the head state, all or nothing (anvil_loadState, --load-state). */
export async function loadIntoHeadState(chain: Chain, lines: Iterable<string>): Promise<void> {
  await chain.exclusive(async () => {
    try {
      setHeadStateRoot(chain, await loadStateLines(chain, lines))
    } catch (err) {
      // a dump refused halfway: back to the state before it
      await chain.stateManager.setStateRoot(stateRootOf(chain, chain.head))
      throw err
    }
  })
}
