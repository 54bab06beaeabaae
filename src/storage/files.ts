import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import type { AddResult } from './types.ts'

/** Write a stream to `path` via a temp file in the same directory + rename (never a torn file). */
export async function writeStreamToFile(
  chunks: AsyncIterable<Uint8Array>,
  path: string,
  cid: string,
  signal?: AbortSignal,
): Promise<AddResult> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.part`
  const fh = await open(tmp, 'w')
  let size = 0
  // positional writes, a few in flight, so reading the next blocks overlaps writing the last ones
  const inflight = new Set<Promise<unknown>>()
  let failure: unknown
  try {
    for await (const chunk of chunks) {
      signal?.throwIfAborted()
      const p: Promise<unknown> = fh.write(chunk, 0, chunk.byteLength, size).then(
        () => inflight.delete(p),
        (err) => {
          inflight.delete(p)
          failure ??= err
        },
      )
      inflight.add(p)
      size += chunk.byteLength
      while (inflight.size >= 4) await Promise.race(inflight)
      if (failure) throw failure
    }
    await Promise.all(inflight)
    if (failure) throw failure
    await fh.close()
    await rename(tmp, path)
  } catch (err) {
    await Promise.allSettled(inflight)
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
  return { cid, size }
}
