// `lattice devnet --load-state FILE` / `--dump-state FILE`: anvil's flags. The state is loaded once at start
// (before the example deployments and before the port opens) and dumped at exit, in the anvil_dumpState format
// (src/chain/state-dump.ts: a header line, then one JSON line per account); a load also takes anvil's JSON dump.
import { once } from 'node:events'
import { closeSync, createWriteStream, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { gunzipSync } from 'node:zlib'
import { bytesToHex } from '@ethereumjs/util'
import { loadIntoHeadState } from '../chain/dev-state.ts'
import type { LatticeNode } from '../chain/node.ts'
import { dumpStateLines } from '../chain/state-dump.ts'
import { CliFlagError } from './errors.ts'

/** anvil's rule: a directory given as the path means `<dir>/state.json`. */
export function stateFilePath(path: string): string {
  try {
    if (statSync(path).isDirectory()) return join(path, 'state.json')
  } catch {
    // not there yet: a file path
  }
  return path
}

/**
 * Write the head state to `path`, one line at a time with the write stream's backpressure, so memory stays
 * bounded by one account's line (and the trie's depth) whatever the state's size; written to a temporary file
 * and renamed, so an interrupted dump never leaves a truncated file under the name. Returns the accounts written and the state root.
 */
export async function dumpStateFile(node: LatticeNode, path: string): Promise<{ accounts: number; stateRoot: string }> {
  const { chain } = node
  // the root is fixed under the chain lock; its trie nodes are content-addressed, so reading goes on outside it
  const { root, number } = await chain.exclusive(async () => ({
    root: await chain.stateManager.getStateRoot(),
    number: chain.head.header.number,
  }))
  const file = stateFilePath(path)
  const tmp = `${file}.tmp-${process.pid}`
  const out = createWriteStream(tmp)
  let lines = 0
  try {
    for await (const line of dumpStateLines(chain, root, number)) {
      lines++
      if (!out.write(`${line}\n`)) await once(out, 'drain')
    }
    out.end()
    await once(out, 'finish')
    renameSync(tmp, file)
  } catch (err) {
    out.destroy()
    rmSync(tmp, { force: true })
    throw err
  }
  return { accounts: lines - 1, stateRoot: bytesToHex(root) }
}

/**
 * Merge the dump at `path` into the head state (anvil_loadState's semantics), reading the file line by line in
 * 1 MiB chunks. anvil's own dump is one JSON document, read whole; a gzip file (anvil_dumpState's bytes) too.
 */
export async function loadStateFile(node: LatticeNode, path: string): Promise<void> {
  const file = stateFilePath(path)
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (err) {
    throw new CliFlagError(`--load-state ${path}: cannot open it (${(err as Error).message}).`)
  }
  const { chain } = node
  try {
    const head = Buffer.alloc(2)
    readSync(fd, head, 0, 2, 0)
    const lines =
      head[0] === 0x1f && head[1] === 0x8b ? gunzipSync(readFileSync(file)).toString('utf8').split('\n') : fileLines(fd)
    await loadIntoHeadState(chain, lines)
  } finally {
    closeSync(fd)
  }
}

/** The file's lines, read synchronously in chunks (loadStateLines takes a synchronous iterable). */
function* fileLines(fd: number): Generator<string> {
  const chunk = Buffer.alloc(1 << 20)
  const decoder = new StringDecoder('utf8')
  let rest = ''
  let pos = 0
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, pos)
    if (n === 0) break
    pos += n
    const text = rest + decoder.write(chunk.subarray(0, n))
    const parts = text.split('\n')
    rest = parts.pop() ?? ''
    yield* parts
  }
  rest += decoder.end()
  if (rest !== '') yield rest
}
