import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { EVMOpts } from '@ethereumjs/evm'
import { createEVM } from '@ethereumjs/evm'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { MerkleStateManager } from '@ethereumjs/statemanager'
import type { BatchDBOp, DB, EncodingOpts } from '@ethereumjs/util'
import { bytesToUnprefixedHex, ValueEncoding } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { createVM } from '@ethereumjs/vm'
import type { Chain } from './chain.ts'
import { MissingStateError } from './errors.ts'
import { stateRootOf } from './head-state.ts'

type Key = Uint8Array | string
type Value = Uint8Array | string

/** Reads fall through to the chain's state database; writes stay in memory and vanish with it. */
class OverlayDB implements DB<Key, Value> {
  private readonly writes = new Map<string, Value | null>()
  constructor(private readonly base: DB<Key, Value>) {}

  private k(key: Key): string {
    return typeof key === 'string' ? key : bytesToUnprefixedHex(key)
  }
  async get(key: Key, opts?: EncodingOpts): Promise<Value | undefined> {
    const w = this.writes.get(this.k(key))
    if (w === null) return undefined
    if (w !== undefined) return w
    return this.base.get(key, opts)
  }
  async put(key: Key, val: Value): Promise<void> {
    this.writes.set(this.k(key), val)
  }
  async del(key: Key): Promise<void> {
    this.writes.set(this.k(key), null)
  }
  async batch(ops: BatchDBOp<Key, Value>[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') await this.put(op.key, op.value)
      else await this.del(op.key)
    }
  }
  shallowCopy(): DB<Key, Value> {
    return this
  }
  async open(): Promise<void> {}
}

/**
 * A throwaway VM on the post-state of `parent` whose writes never reach the database: for
 * building blocks that are not imported (testing_buildBlockV1, eth_simulateV1).
 */
export async function sandboxVM(
  chain: Chain,
  parent: Block,
  common?: Common,
  blockchain: Chain['blockchain'] = chain.blockchain,
): Promise<VM> {
  const c = common ?? chain.common.copy()
  const trie = new MerklePatriciaTrie({
    db: new OverlayDB(chain.dbs.state as unknown as DB<Key, Value>),
    useKeyHashing: true,
    valueEncoding: ValueEncoding.Bytes,
    common: c,
  })
  const sm = new MerkleStateManager({ trie, common: c })
  // the head's root after devnet edits (head-state.ts), else the header's
  const root = stateRootOf(chain, parent)
  if (!(await sm.hasStateRoot(root))) throw new MissingStateError(parent.header.number)
  await sm.setStateRoot(root)
  // the chain's own EVM options (custom precompiles) apply here too
  const evmOpts = (chain as unknown as { evmOpts: Partial<EVMOpts> }).evmOpts
  const evm = await createEVM({ common: c, stateManager: sm, blockchain, ...evmOpts })
  chain.attachEvm(evm)
  return createVM({ common: c, stateManager: sm, blockchain, evm })
}
