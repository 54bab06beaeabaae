// anvil_dumpState / anvil_loadState. The state trie hashes its keys and keeps no preimages, so a dump names each
// account by keccak(address) and each slot by keccak(slot): it is read straight off the account and storage tries,
// one line per account, and loads back into the same tries, so a node that loads it ends at the same state root.
// Loading also accepts anvil's own dump (accounts keyed by address), the way anvil merges a dump into its state.
import { BranchMPTNode, ExtensionMPTNode, LeafMPTNode, MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import type { DB } from '@ethereumjs/util'
import {
  bigIntToHex,
  bytesToHex,
  concatBytes,
  createAccount,
  createAccountFromRLP,
  equalsBytes,
  hexToBytes,
  KECCAK256_NULL,
  KECCAK256_RLP,
  unpadBytes,
  utf8ToBytes,
  ValueEncoding,
} from '@ethereumjs/util'
import { keccak256 } from 'ethereum-cryptography/keccak.js'
import type { Chain } from './chain.ts'
import { StateDumpError } from './errors.ts'

/** First line of a Lattice dump; every later line is one {@link DumpedAccount}. */
export interface DumpHeader {
  format: typeof DUMP_FORMAT
  chainId: string
  block: string
  stateRoot: string
}

/** One account of a dump: `h` keccak(address); storage as [keccak(slot), value] pairs. */
export interface DumpedAccount {
  h: string
  n: string
  b: string
  c?: string
  s?: [string, string][]
}

export const DUMP_FORMAT = 'lattice-state/1'

/** Where MerkleStateManager keeps code: 'c' + code hash in the state database. */
const codeKey = (codeHash: Uint8Array) => concatBytes(utf8ToBytes('c'), codeHash)

/** A trie over the chain's state database that takes keys as they are stored (already hashed). */
function rawTrie(chain: Chain, root?: Uint8Array): MerklePatriciaTrie {
  return new MerklePatriciaTrie({
    db: chain.dbs.state as unknown as DB<string, string | Uint8Array>,
    useKeyHashing: false,
    valueEncoding: ValueEncoding.Bytes,
    common: chain.common,
    root,
  })
}

/** Every leaf of the trie at `node`, in key order; memory is bounded by the trie's depth. */
async function* leaves(
  trie: MerklePatriciaTrie,
  node: Uint8Array | Uint8Array[],
  path: number[] = [],
): AsyncGenerator<{ key: Uint8Array; value: Uint8Array }> {
  const n = await trie.lookupNode(node)
  if (n instanceof LeafMPTNode) {
    yield { key: packNibbles([...path, ...n.key()]), value: n.value() }
  } else if (n instanceof ExtensionMPTNode) {
    yield* leaves(trie, n.value(), [...path, ...n.key()])
  } else if (n instanceof BranchMPTNode) {
    // keys are all 32 bytes (hashed), so a branch never holds a value of its own
    for (const [nibble, child] of n.getChildren())
      yield* leaves(trie, child as Uint8Array | Uint8Array[], [...path, nibble])
  }
}

function packNibbles(nibbles: number[]): Uint8Array {
  const out = new Uint8Array(nibbles.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = (nibbles[2 * i] << 4) | nibbles[2 * i + 1]
  return out
}

/**
 * The state at `root` as dump lines (JSON, no newline): the header, then one account per line. Reads only
 * content-addressed trie nodes, so it may run outside the chain lock once `root` is flushed.
 */
export async function* dumpStateLines(chain: Chain, root: Uint8Array, block: bigint): AsyncGenerator<string> {
  const header: DumpHeader = {
    format: DUMP_FORMAT,
    chainId: bigIntToHex(chain.chainId),
    block: bigIntToHex(block),
    stateRoot: bytesToHex(root),
  }
  yield JSON.stringify(header)
  const accounts = rawTrie(chain, root)
  if (equalsBytes(root, accounts.EMPTY_TRIE_ROOT)) return
  for await (const { key, value } of leaves(accounts, root)) {
    const acct = createAccountFromRLP(value)
    const out: DumpedAccount = { h: bytesToHex(key), n: bigIntToHex(acct.nonce), b: bigIntToHex(acct.balance) }
    if (!equalsBytes(acct.codeHash, KECCAK256_NULL)) {
      const code = await accounts.database().get(codeKey(acct.codeHash))
      if (code) out.c = bytesToHex(code as Uint8Array)
    }
    if (!equalsBytes(acct.storageRoot, KECCAK256_RLP)) {
      const storage = rawTrie(chain, acct.storageRoot)
      out.s = []
      for await (const slot of leaves(storage, acct.storageRoot)) {
        out.s.push([bytesToHex(slot.key), bytesToHex(RLP.decode(slot.value) as Uint8Array)])
      }
    }
    yield JSON.stringify(out)
  }
}

const HEX = /^0x[0-9a-fA-F]*$/

function hexField(v: unknown, what: string, size?: number): Uint8Array {
  if (typeof v !== 'string' || !HEX.test(v) || v.length % 2 !== 0) throw new StateDumpError(`${what} is not hex data`)
  const bytes = hexToBytes(v as `0x${string}`)
  if (size !== undefined && bytes.length !== size) throw new StateDumpError(`${what} is not ${size} bytes`)
  return bytes
}

function quantityField(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(v)) return BigInt(v)
  throw new StateDumpError(`${what} is not a quantity`)
}

/** One account to write: keys already hashed, values as stored. */
interface LoadedAccount {
  key: Uint8Array
  nonce: bigint
  balance: bigint
  code: Uint8Array
  /** [keccak(slot), value without leading zeros] */
  slots: [Uint8Array, Uint8Array][]
}

/**
 * Merge a dump (ours, as lines, or anvil's JSON document) into the head state: an account in the dump replaces
 * that account's nonce, balance and code; its slots are set on top of its storage, as anvil loads. Returns the
 * new state root. Must run inside the chain lock.
 */
export async function loadStateLines(chain: Chain, lines: Iterable<string>): Promise<Uint8Array> {
  const sm = chain.stateManager
  const iter = lines[Symbol.iterator]()
  const first = iter.next()
  if (first.done) throw new StateDumpError('the dump is empty')
  const header = parseJson(first.value, 'the first line') as Partial<DumpHeader>
  const accounts =
    header.format === DUMP_FORMAT
      ? ourAccounts(iter)
      : anvilAccounts(parseJson([first.value, ...iterRest(iter)].join('\n'), 'the dump'))
  const trie = rawTrie(chain, await sm.getStateRoot())
  // one batch of database writes at the end instead of one per trie node
  trie.checkpoint()
  try {
    for (const a of accounts) {
      const old = await trie.get(a.key)
      const acct = old ? createAccountFromRLP(old) : createAccount({})
      acct.nonce = a.nonce
      acct.balance = a.balance
      acct.codeHash = a.code.length === 0 ? KECCAK256_NULL : keccak256(a.code)
      if (a.code.length > 0) await trie.database().put(codeKey(acct.codeHash), a.code)
      if (a.slots.length > 0) {
        const storage = rawTrie(chain, acct.storageRoot)
        storage.checkpoint()
        for (const [slot, value] of a.slots) {
          if (value.length === 0) await storage.del(slot)
          else await storage.put(slot, RLP.encode(value))
        }
        await storage.commit()
        acct.storageRoot = storage.root()
      }
      await trie.put(a.key, acct.serialize())
    }
    await trie.commit()
  } catch (err) {
    await trie.revert()
    throw err
  }
  // the state manager's caches know nothing of the writes: moving to the new root clears them
  const root = trie.root()
  await sm.setStateRoot(root)
  return root
}

/** The account lines of our format, checked one by one. */
function* ourAccounts(iter: Iterator<string>): Generator<LoadedAccount> {
  let n = 1
  for (let next = iter.next(); !next.done; next = iter.next()) {
    n++
    if (next.value.trim() === '') continue
    const a = parseJson(next.value, `line ${n}`) as Partial<DumpedAccount>
    if (a.s !== undefined && !Array.isArray(a.s)) throw new StateDumpError(`line ${n}: s is not a list`)
    yield {
      key: hexField(a.h, `line ${n}: h`, 32),
      nonce: quantityField(a.n, `line ${n}: n`),
      balance: quantityField(a.b, `line ${n}: b`),
      code: a.c === undefined ? new Uint8Array() : hexField(a.c, `line ${n}: c`),
      slots: (a.s ?? []).map((pair) => {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new StateDumpError(`line ${n}: a slot is not a [key, value] pair`)
        }
        const value = hexField(pair[1], `line ${n}: slot value`)
        if (value.length > 32) throw new StateDumpError(`line ${n}: a slot value is longer than 32 bytes`)
        return [hexField(pair[0], `line ${n}: slot key`, 32), unpadBytes(value)]
      }),
    }
  }
}

function* iterRest(iter: Iterator<string>): Generator<string> {
  for (let next = iter.next(); !next.done; next = iter.next()) yield next.value
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new StateDumpError(`${where} is not JSON`)
  }
}

/** A 32-byte word written as hex of any length up to 64 digits (anvil writes U256 keys and values). */
function word(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) {
    throw new StateDumpError(`${what} is not a 32-byte word`)
  }
  return hexToBytes(`0x${v.slice(2).padStart(64, '0')}`)
}

interface AnvilAccount {
  nonce?: unknown
  balance?: unknown
  code?: unknown
  storage?: Record<string, unknown>
}

/** anvil's SerializableState: `{ accounts: { [address]: { nonce, balance, code, storage } }, ... }`, keys hashed. */
function* anvilAccounts(doc: unknown): Generator<LoadedAccount> {
  const accounts = (doc as { accounts?: Record<string, AnvilAccount> } | null)?.accounts
  if (!accounts || typeof accounts !== 'object') {
    throw new StateDumpError(`neither a ${DUMP_FORMAT} dump nor anvil's (no "accounts")`)
  }
  for (const [addrHex, a] of Object.entries(accounts)) {
    yield {
      key: keccak256(hexField(addrHex, `account ${addrHex}`, 20)),
      nonce: a.nonce === undefined ? 0n : quantityField(a.nonce, `${addrHex}.nonce`),
      balance: a.balance === undefined ? 0n : quantityField(a.balance, `${addrHex}.balance`),
      code: a.code === undefined ? new Uint8Array() : hexField(a.code, `${addrHex}.code`),
      slots: Object.entries(a.storage ?? {}).map(([k, v]) => [
        keccak256(word(k, `${addrHex}.storage key`)),
        unpadBytes(word(v, `${addrHex}.storage value`)),
      ]),
    }
  }
}
