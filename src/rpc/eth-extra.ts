import { crc32 } from 'node:zlib'
import type { Block } from '@ethereumjs/block'
import { getMerkleStateProof } from '@ethereumjs/statemanager'
import { bigIntToBytes, bytesToBigInt, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import type { Chain } from '../chain/chain.ts'
import { BLOCK_FORKS } from '../chain/genesis-schema.ts'
import type { LatticeNode } from '../chain/node.ts'
import { resolveBlockOrThrow } from './blocks.ts'
import { address, blockRef, data, paramList, q } from './codec.ts'
import { invalidParams } from './errors.ts'
import { ethToolingMethods } from './eth-tooling.ts'
import { simulateMethods } from './simulate.ts'
import type { Handlers } from './types.ts'

// block resolution lives in blocks.ts (shared with simulate.ts); re-exported for existing importers
export { resolveBlock, resolveBlockOrThrow } from './blocks.ts'

/** A storage key as geth reads it: up to 32 bytes of hex; `short` when it was not given as 32 bytes. */
function storageKey(v: unknown, name: string): { key: Uint8Array; short: boolean } {
  const bytes = data(v, name)
  if (bytes.length > 32) throw invalidParams(`invalid argument ${name}: hex string too long, want at most 32 bytes`)
  return { key: setLengthLeft(bytes, 32), short: bytes.length !== 32 }
}

/** eth_* methods for validators and tooling: proofs, multi-slot reads, fork config, simulation. */
export function ethExtraMethods(node: LatticeNode): Handlers {
  const chain = node.chain

  async function stateFor(block: Block) {
    return block === chain.head ? chain.stateAt(block) : chain.stateAt(block)
  }

  return {
    ...ethToolingMethods(node),
    eth_baseFee: async (p) => {
      paramList(p, 'eth_baseFee', 0, 0)
      if (chain.head.header.baseFeePerGas === undefined) return null
      return q(node.nextBaseFee())
    },

    eth_getProof: async (p) => {
      const [a, keys, b] = paramList(p, 'eth_getProof', 2, 3)
      const addr = address(a, 'address')
      if (!Array.isArray(keys)) throw invalidParams('invalid argument 1: expected an array of storage keys')
      const slots = keys.map((k, i) => storageKey(k, `storageKeys[${i}]`))
      const block = await resolveBlockOrThrow(chain, blockRef(b, 'block'))
      const sm = await stateFor(block)
      const proof = await getMerkleStateProof(
        sm,
        addr,
        slots.map((s) => s.key),
      )
      return {
        address: addr.toString(),
        accountProof: proof.accountProof,
        balance: q(BigInt(proof.balance)),
        codeHash: proof.codeHash,
        nonce: q(BigInt(proof.nonce)),
        storageHash: proof.storageHash,
        storageProof: proof.storageProof.map((sp, i) => ({
          key: slots[i].short ? q(bytesToBigInt(slots[i].key)) : bytesToHex(slots[i].key),
          value: q(BigInt(sp.value)),
          proof: sp.proof,
        })),
      }
    },

    eth_getStorageValues: async (p) => {
      const [req, b] = paramList(p, 'eth_getStorageValues', 1, 2)
      if (typeof req !== 'object' || req === null || Array.isArray(req)) {
        throw invalidParams('invalid argument 0: expected an object of address -> storage keys')
      }
      const entries = Object.entries(req as Record<string, unknown>)
      if (entries.length === 0) throw invalidParams('empty request')
      let total = 0
      const plan = entries.map(([a, keys]) => {
        const addr = address(a, `address ${a}`)
        if (!Array.isArray(keys)) throw invalidParams(`invalid argument 0: keys of ${a} must be an array`)
        total += keys.length
        return { a, addr, keys: keys.map((k, i) => storageKey(k, `${a}[${i}]`).key) }
      })
      if (total > 1024) throw invalidParams(`too many slots: ${total}, the limit is 1024`)
      const block = await resolveBlockOrThrow(chain, blockRef(b, 'block'))
      const sm = await stateFor(block)
      const out: Record<string, string[]> = {}
      for (const { addr, keys } of plan) {
        const vals: string[] = []
        for (const k of keys) vals.push(bytesToHex(setLengthLeft(await sm.getStorage(addr, k), 32)))
        out[addr.toString()] = vals
      }
      return out
    },

    eth_config: async (p) => {
      paramList(p, 'eth_config', 0, 0)
      return forkConfig(chain)
    },

    eth_capabilities: async (p) => {
      paramList(p, 'eth_capabilities', 0, 0)
      const head = chain.head
      const all = { disabled: false, oldestBlock: '0x0' }
      return {
        head: { number: q(head.header.number), hash: bytesToHex(head.hash()) },
        state: all,
        tx: all,
        // logs are never pruned: a retention window of 2^64-1 blocks says so in the shape geth uses
        logs: { ...all, deleteStrategy: { type: 'window', retentionBlocks: '0xffffffffffffffff' } },
        receipts: all,
        blocks: all,
        stateproofs: all,
      }
    },

    ...simulateMethods(node),
  }
}

// ------------------------------------------------------------------- EIP-7910 eth_config

const TIME_FORKS = ['shanghai', 'cancun', 'prague', 'osaka', 'bpo1', 'bpo2'] as const
const BLOCK_FORK_KEYS = BLOCK_FORKS

const PRECOMPILES: [string, number, string][] = [
  ['ECREC', 1, 'homestead'],
  ['SHA256', 2, 'homestead'],
  ['RIPEMD160', 3, 'homestead'],
  ['ID', 4, 'homestead'],
  ['MODEXP', 5, 'byzantium'],
  ['BN254_ADD', 6, 'byzantium'],
  ['BN254_MUL', 7, 'byzantium'],
  ['BN254_PAIRING', 8, 'byzantium'],
  ['BLAKE2F', 9, 'istanbul'],
  ['KZG_POINT_EVALUATION', 10, 'cancun'],
  ['BLS12_G1ADD', 11, 'prague'],
  ['BLS12_G1MSM', 12, 'prague'],
  ['BLS12_G2ADD', 13, 'prague'],
  ['BLS12_G2MSM', 14, 'prague'],
  ['BLS12_PAIRING_CHECK', 15, 'prague'],
  ['BLS12_MAP_FP_TO_G1', 16, 'prague'],
  ['BLS12_MAP_FP2_TO_G2', 17, 'prague'],
  ['P256VERIFY', 0x100, 'osaka'],
]

const addr = (n: number) => bytesToHex(setLengthLeft(bigIntToBytes(BigInt(n)), 20))

/** The fork configuration at the head, the next scheduled fork and the last one (EIP-7910). */
export function forkConfig(chain: Chain): Record<string, unknown> {
  const cfg = chain.spec.geth.config as unknown as Record<string, unknown>
  const scheduled = TIME_FORKS.filter((f) => typeof cfg[`${f}Time`] === 'number').map((f) => ({
    name: f,
    time: cfg[`${f}Time`] as number,
  }))
  const now = Number(chain.head.header.timestamp)
  const active = scheduled.filter((f) => f.time <= now)
  const future = scheduled.filter((f) => f.time > now)
  const describe = (i: number) => {
    if (i < 0 || i >= scheduled.length) return null
    const f = scheduled[i]
    const upTo = TIME_FORKS.indexOf(f.name)
    const enabled = (fork: string) => {
      const ti = (TIME_FORKS as readonly string[]).indexOf(fork)
      return ti === -1 ? true : ti <= upTo
    }
    const schedule = (cfg.blobSchedule as Record<string, unknown> | undefined)?.[f.name]
    const precompiles: Record<string, string> = {}
    for (const [name, n, fork] of PRECOMPILES) if (enabled(fork)) precompiles[name] = addr(n)
    const systemContracts: Record<string, string> = {}
    if (enabled('cancun')) systemContracts.BEACON_ROOTS_ADDRESS = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'
    if (enabled('prague')) {
      systemContracts.CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS = '0x0000bbddc7ce488642fb579f8b00f3a590007251'
      systemContracts.DEPOSIT_CONTRACT_ADDRESS = String(
        cfg.depositContractAddress ?? '0x00000000219ab540356cbb839cbe05303d7705fa',
      ).toLowerCase()
      systemContracts.HISTORY_STORAGE_ADDRESS = '0x0000f90827f1c53a10cb7a02335b175320002935'
      systemContracts.WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS = '0x00000961ef480eb55e80d19ad83579a64c007002'
    }
    return {
      activationTime: f.time,
      blobSchedule: schedule ?? null,
      chainId: q(chain.chainId),
      forkId: forkId(chain, f.time),
      precompiles,
      systemContracts,
    }
  }
  const current = active.length - 1
  return {
    current: describe(current),
    next: future.length > 0 ? describe(current + 1) : null,
    last: future.length > 0 ? describe(scheduled.length - 1) : null,
  }
}

/** EIP-2124 fork hash of the chain at time `at` (forks by block are all passed once time forks begin). */
export function forkId(chain: Chain, at: number): string {
  const cfg = chain.spec.geth.config as unknown as Record<string, unknown>
  const genesis = chain.blockchain.genesisBlock
  const genesisTime = Number(genesis.header.timestamp)
  const blocks = [
    ...new Set(BLOCK_FORK_KEYS.map((k) => cfg[k]).filter((v): v is number => typeof v === 'number' && v > 0)),
  ].sort((a, b) => a - b)
  const times = [
    ...new Set(
      TIME_FORKS.map((f) => cfg[`${f}Time`]).filter((v): v is number => typeof v === 'number' && v > genesisTime),
    ),
  ].sort((a, b) => a - b)
  let hash = crc32(genesis.hash())
  for (const n of [...blocks, ...times.filter((t) => t <= at)]) {
    const b = Buffer.alloc(8)
    b.writeBigUInt64BE(BigInt(n))
    hash = crc32(b, hash)
  }
  return `0x${hash.toString(16).padStart(8, '0')}`
}
