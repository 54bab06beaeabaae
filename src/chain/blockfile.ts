import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import type { Block } from '@ethereumjs/block'
import { createBlockFromBytesArray } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt } from '@ethereumjs/util'
import type { Chain } from './chain.ts'
import { BlockFileError, BlockImportError } from './errors.ts'

/** Progress of an import or export, reported after every block. */
export interface BlockFileProgress {
  /** Height of the block just handled. */
  number: bigint
  /** Blocks executed and written so far. */
  imported: number
  /** Blocks already in the chain and skipped (a resumed import). */
  skipped: number
  /** Bytes of the file read so far, and the file's size. */
  bytesRead: number
  bytesTotal: number
}

export interface BlockFileOpts {
  signal?: AbortSignal
  onProgress?: (p: BlockFileProgress) => void
}

export interface ImportResult {
  imported: number
  skipped: number
  /** The chain's head after the import. */
  head: Block
}

const CHUNK = 1 << 20

/**
 * Read RLP-encoded blocks written back to back (geth's `export` format) one at a time,
 * without loading the whole file. Yields each block's raw bytes and its offset.
 */
export async function* readBlockFile(path: string): AsyncGenerator<{ raw: Uint8Array; offset: number; size: number }> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (err) {
    throw new BlockFileError(
      `Cannot open block file ${path}: ${(err as Error).message}. Pass the path of an .rlp file.`,
    )
  }
  try {
    const size = (await fh.stat()).size
    let buf = new Uint8Array(0)
    let offset = 0 // file offset of buf[0]
    let eof = false
    const fill = async (need: number) => {
      while (buf.length < need && !eof) {
        const chunk = new Uint8Array(Math.max(CHUNK, need - buf.length))
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, offset + buf.length)
        if (bytesRead === 0) eof = true
        const next = new Uint8Array(buf.length + bytesRead)
        next.set(buf)
        next.set(chunk.subarray(0, bytesRead), buf.length)
        buf = next
      }
    }
    for (;;) {
      await fill(9)
      if (buf.length === 0) return
      const total = rlpListLength(buf, offset)
      await fill(total)
      if (buf.length < total) {
        throw new BlockFileError(
          `The block file ${path} is truncated: the block at byte ${offset} needs ${total} bytes, ${buf.length} are left.`,
        )
      }
      yield { raw: buf.slice(0, total), offset, size }
      buf = buf.subarray(total)
      offset += total
    }
  } finally {
    await fh.close()
  }
}

/** Length of the RLP list at the start of `b` (header included). */
function rlpListLength(b: Uint8Array, offset: number): number {
  const first = b[0]
  if (first < 0xc0) {
    throw new BlockFileError(
      `No RLP block at byte ${offset} of the file (found byte 0x${first.toString(16)}). The file must hold RLP blocks back to back, as \`lattice export\` and \`geth export\` write them.`,
    )
  }
  if (first <= 0xf7) return 1 + (first - 0xc0)
  const lenOfLen = first - 0xf7
  let len = 0
  for (let i = 1; i <= lenOfLen; i++) len = len * 256 + (b[i] ?? 0)
  return 1 + lenOfLen + len
}

/** Decode one block with the fork rules of its own height and timestamp. */
export function decodeBlock(chain: Chain, raw: Uint8Array, ordinal: number): Block {
  let fields: Uint8Array[][]
  try {
    fields = RLP.decode(raw) as unknown as Uint8Array[][]
  } catch (err) {
    throw new BlockFileError(`Block ${ordinal} of the file is not valid RLP: ${(err as Error).message}`)
  }
  const header = Array.isArray(fields) ? fields[0] : undefined
  if (!Array.isArray(header) || header.length < 15) {
    throw new BlockFileError(`Block ${ordinal} of the file does not have a block header.`)
  }
  const number = bytesToBigInt(header[8] as Uint8Array)
  const common = chain.common.copy()
  common.setHardforkBy({ blockNumber: number, timestamp: bytesToBigInt(header[11] as Uint8Array) })
  try {
    return createBlockFromBytesArray(fields as never, { common, setHardfork: true })
  } catch (err) {
    throw new BlockImportError(number, shortMessage(err))
  }
}

/**
 * Import every block of a block file into `chain`, each executed and validated in full
 * (see {@link Chain.importBlock}). Blocks the chain already holds are skipped, so an
 * interrupted import resumes where it stopped. Throws BlockImportError at the first bad block.
 */
export async function importBlockFile(chain: Chain, path: string, opts: BlockFileOpts = {}): Promise<ImportResult> {
  let imported = 0
  let skipped = 0
  let ordinal = 0
  for await (const { raw, offset, size } of readBlockFile(path)) {
    opts.signal?.throwIfAborted()
    ordinal++
    const block = decodeBlock(chain, raw, ordinal)
    const r = await chain.exclusive(() => chain.importBlock(block))
    if (r === 'known') skipped++
    else imported++
    opts.onProgress?.({
      number: block.header.number,
      imported,
      skipped,
      bytesRead: offset + raw.length,
      bytesTotal: size,
    })
  }
  return { imported, skipped, head: chain.head }
}

/** Write canonical blocks `from`..`to` (inclusive, default genesis+1..head) to `path`, back to back. */
export async function exportBlockFile(
  chain: Chain,
  path: string,
  range: { from?: bigint; to?: bigint } = {},
  opts: BlockFileOpts = {},
): Promise<{ exported: number }> {
  const head = chain.head.header.number
  const from = range.from ?? 1n
  const to = range.to ?? head
  if (from < 0n || to < from) {
    throw new BlockFileError(`The range --from ${from} --to ${to} is empty. Pass --from N --to M with N <= M.`)
  }
  if (to > head) {
    throw new BlockFileError(`--to ${to} is past the head block ${head}. Pass --to ${head} or less.`)
  }
  let fh: FileHandle
  try {
    fh = await open(path, 'w')
  } catch (err) {
    throw new BlockFileError(`Cannot write ${path}: ${(err as Error).message}. Pass a writable path.`)
  }
  let written = 0
  let exported = 0
  try {
    for (let n = from; n <= to; n++) {
      opts.signal?.throwIfAborted()
      const block = await chain.getBlockByNumber(n)
      if (!block) throw new BlockFileError(`Block ${n} is missing from the chain database.`)
      const raw = block.serialize()
      await fh.write(raw)
      written += raw.length
      exported++
      opts.onProgress?.({ number: n, imported: exported, skipped: 0, bytesRead: written, bytesTotal: 0 })
    }
  } finally {
    await fh.close()
  }
  return { exported }
}

function shortMessage(err: unknown): string {
  const msg = String((err as Error)?.message ?? err)
  return msg.split(/ \(block number=| \(tx type=| block number=| hash=/)[0].trim()
}
