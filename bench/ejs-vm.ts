// Bare ethereumjs as the devnet configures it, for the floor benches (bench/ethereumjs-floor.ts, bench/call-floor.ts):
// the devnet's genesis and Common (genesis/devnet.json), its trie and state cache sizes, and the hashing and recovery
// libraries it uses, through ethereumjs' own options. No Lattice code.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBlockchain } from '@ethereumjs/blockchain'
import type { Common, CustomCrypto, GethGenesis } from '@ethereumjs/common'
import { createCommonFromGethGenesis, parseGethGenesisState } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches, CacheType, MerkleStateManager } from '@ethereumjs/statemanager'
import type { DB } from '@ethereumjs/util'
import { calculateSigRecovery, concatBytes, MapDB, setLengthLeft, ValueEncoding } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { createVM } from '@ethereumjs/vm'
import { createKeccak } from 'hash-wasm'

const require = createRequire(import.meta.url)
const GENESIS = join(fileURLToPath(new URL('..', import.meta.url)), 'genesis', 'devnet.json')

/** The devnet's hashing and recovery libraries (native secp256k1, hash-wasm keccak); `js`: ethereumjs' defaults. */
export async function benchCrypto(kind: 'native' | 'js' = 'native'): Promise<CustomCrypto> {
  if (kind === 'js') return {}
  const secp = require('secp256k1') as {
    ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
  }
  const k = await createKeccak(256)
  return {
    ecrecover: (msgHash, v, r, s, chainId) => {
      const sig = concatBytes(setLengthLeft(r, 32), setLengthLeft(s, 32))
      return secp.ecdsaRecover(sig, Number(calculateSigRecovery(v, chainId)), msgHash, false).slice(1)
    },
    keccak256: (msg) => {
      k.init()
      k.update(msg)
      return k.digest('binary')
    },
  }
}

/** What {@link bareVm} builds. */
export interface BareVm {
  vm: VM
  common: Common
  blockchain: Awaited<ReturnType<typeof createBlockchain>>
}

/**
 * createVM on the devnet's genesis: trie (with the devnet's node cache size) and blockchain on `stateDb` /
 * `blockDb` (a MapDB each by default), LRU account, storage and code caches sized as the devnet's.
 */
export async function bareVm(
  opts: { crypto?: 'native' | 'js'; stateDb?: DB<any, any>; blockDb?: DB<any, any> } = {},
): Promise<BareVm> {
  const geth = JSON.parse(readFileSync(GENESIS, 'utf8')) as GethGenesis & { config: Record<string, any> }
  // ethereumjs 10.1 misreads BPO blob schedules; the devnet keeps the built-in (equal) ones the same way
  const schedule = (geth.config.blobSchedule ?? {}) as Record<string, unknown>
  for (const fork of Object.keys(schedule)) if (/^bpo\d$/.test(fork)) delete schedule[fork]
  const common = createCommonFromGethGenesis(geth, { chain: 'lattice', customCrypto: await benchCrypto(opts.crypto) })
  const genesisState = parseGethGenesisState(geth)
  const trie = new MerklePatriciaTrie({
    db: opts.stateDb ?? new MapDB<string, Uint8Array>(),
    useKeyHashing: true,
    valueEncoding: ValueEncoding.Bytes,
    cacheSize: 50_000,
    common,
  })
  const caches = new Caches({
    account: { type: CacheType.LRU, size: 100_000 },
    storage: { type: CacheType.LRU, size: 50_000 },
    code: { type: CacheType.LRU, size: 5_000 },
  })
  const stateManager = new MerkleStateManager({ trie, common, caches })
  const blockchain = await createBlockchain({
    db: opts.blockDb,
    common,
    genesisState,
    hardforkByHeadBlockNumber: true,
    validateBlocks: false,
    validateConsensus: false,
  })
  await stateManager.generateCanonicalGenesis(genesisState)
  const vm = await createVM({ common, stateManager, blockchain })
  return { vm, common, blockchain }
}
