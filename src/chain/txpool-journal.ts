// The transaction pool's restart journal, as geth's `transactions.rlp`: every transaction the pool accepts is
// appended to a file in the datadir before its submission is answered, so a clean stop or a kill -9 keeps it;
// at start the file is read back and each transaction is admitted again (one that is now invalid — mined,
// replaced, unaffordable — is dropped). Removals are not appended: the file is rewritten from the pool a moment
// after them and at close (write to a temporary file, then rename, so a crash leaves the old or the new file).
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { TxPool } from './txpool.ts'

/** geth's file name for the journal. */
export const TXPOOL_JOURNAL_FILE = 'transactions.rlp'

/** Options for {@link openTxPoolJournal}. */
export interface TxPoolJournalOpts {
  /** The journal file (`<datadir>/transactions.rlp`). */
  path: string
  pool: TxPool
  /** Admit one journaled transaction again (the node's eth_sendRawTransaction path); throws when invalid. */
  admit: (raw: Uint8Array) => Promise<unknown>
  /** Delay between a removal and the rewrite it causes (default 1000 ms). */
  rewriteDelayMs?: number
}

/** A journal attached to a pool. */
export interface TxPoolJournal {
  /** Transactions read back and admitted at start. */
  readonly loaded: number
  /** Entries read back and dropped (invalid now, or unreadable). */
  readonly dropped: number
  /** The last write failure, if any (the pool keeps working without its journal). */
  readonly lastError?: Error
  /** Rewrite the file from the pool now. */
  rewrite(): void
  /** Final rewrite; the pool is no longer journaled. */
  close(): void
}

/** Every transaction (network encoding) in a journal file, oldest first; a torn tail is cut off. */
export function readTxPoolJournal(path: string): { txs: Uint8Array[]; unreadable: number } {
  if (!existsSync(path)) return { txs: [], unreadable: 0 }
  let rest: Uint8Array = new Uint8Array(readFileSync(path))
  const txs: Uint8Array[] = []
  while (rest.length > 0) {
    try {
      const { data, remainder } = RLP.decode(rest, true)
      if (!(data instanceof Uint8Array)) break
      txs.push(data)
      rest = remainder
    } catch {
      // a write cut short by a crash: what came before it is whole
      return { txs, unreadable: 1 }
    }
  }
  return { txs, unreadable: rest.length > 0 ? 1 : 0 }
}

/** Every pooled transaction, per sender in nonce order (the order they can be admitted again). */
function poolTransactions(pool: TxPool): TypedTransaction[] {
  const { pending, queued } = pool.content(() => 0n)
  return pool.senders().flatMap((s) => [...(pending.get(s) ?? []), ...(queued.get(s) ?? [])])
}

function encodeEntry(raw: Uint8Array): Uint8Array {
  return RLP.encode(raw)
}

/** Read the journal back into `pool` (through `admit`), then journal every change of the pool. */
export async function openTxPoolJournal(opts: TxPoolJournalOpts): Promise<TxPoolJournal> {
  const { path, pool } = opts
  const delay = opts.rewriteDelayMs ?? 1000
  const { txs, unreadable } = readTxPoolJournal(path)
  let loaded = 0
  let dropped = unreadable
  for (const raw of txs) {
    try {
      await opts.admit(raw)
      loaded++
    } catch {
      dropped++
    }
  }
  let lastError: Error | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false
  // appends go through one descriptor (an open and close per accepted transaction was ~0.05 ms of an automined
  // transfer); a rewrite renames a new file over the path, so the descriptor is dropped and opened again after it
  let fd: number | undefined
  const dropFd = () => {
    if (fd === undefined) return
    try {
      closeSync(fd)
    } catch {}
    fd = undefined
  }

  const rewrite = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    dropFd()
    try {
      const entries = poolTransactions(pool).map((tx) => encodeEntry(tx.serialize()))
      const tmp = `${path}.new`
      writeFileSync(tmp, Buffer.concat(entries))
      renameSync(tmp, path)
    } catch (err) {
      lastError = err as Error
    }
  }
  const scheduleRewrite = () => {
    if (timer || closed) return
    timer = setTimeout(rewrite, delay)
    timer.unref()
  }

  // the file now holds exactly what the pool accepted back
  rewrite()
  pool.onChange = (change) => {
    if (closed) return
    if (change.kind === 'add') {
      try {
        fd ??= openSync(path, 'a')
        const entry = encodeEntry(change.tx.serialize())
        for (let off = 0; off < entry.length; ) off += writeSync(fd, entry, off)
      } catch (err) {
        dropFd()
        lastError = err as Error
      }
    } else scheduleRewrite()
  }
  return {
    loaded,
    get dropped() {
      return dropped
    },
    get lastError() {
      return lastError
    },
    rewrite,
    close() {
      if (closed) return
      rewrite()
      closed = true
      pool.onChange = undefined
      dropFd()
    },
  }
}
