// One suite, run against every ModelStore backend (embedded.test.ts, kubo.test.ts).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LatticeError } from '../../src/errors.ts'
import { BlockNotFoundError, InvalidCidError } from '../../src/storage/errors.ts'
import type { ModelStore, StorageProgressEvent } from '../../src/storage/types.ts'
import { patternBytes } from './fixtures/data.ts'

/** Kubo's documented CIDs for `echo "hello world" | ipfs add [--cid-version 1]`. */
export const HELLO = Buffer.from('hello world\n')
export const HELLO_V0 = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'
export const HELLO_V1 = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4'
/** 1,000,000 pattern bytes (4 chunks): v0 checked against Debian's ipfs_cid; v1 against cid.test.ts's independent DAG builder. */
export const MB1_V0 = 'Qmf2K18R6YHrnTrrpeTfvnFk7aZuHtuAvk4FHeX1eKFAQm'
export const MB1_V1 = 'bafybeih7prqv5pwrzxsnmrcj7hqjypy6v4usxam6h44jiw6gvs72swxcbu'

/** Byte equality without vitest's (slow, element-wise) deep equality on large buffers. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength)
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)).toBe(true)
}

export async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return Buffer.concat(parts)
}

export interface ConformanceTarget {
  store: ModelStore
  cleanup(): Promise<void>
}

/** Register the ModelStore conformance suite for one backend. */
export function modelStoreConformance(name: string, open: () => Promise<ConformanceTarget>): void {
  describe(`ModelStore conformance: ${name}`, () => {
    let target: ConformanceTarget
    let store: ModelStore
    let dir: string
    const mb1 = patternBytes(1_000_000)
    let mb1Path: string

    beforeAll(async () => {
      target = await open()
      store = target.store
      dir = await mkdtemp(join(tmpdir(), 'lattice-conf-'))
      mb1Path = join(dir, 'mb1.bin')
      await writeFile(mb1Path, mb1)
    })
    afterAll(async () => {
      await target?.cleanup()
      await rm(dir, { recursive: true, force: true })
    })

    it('reproduces Kubo CIDs for a one-chunk file, v1 and v0', async () => {
      expect((await store.add(HELLO)).cid).toBe(HELLO_V1)
      expect((await store.add(HELLO, { cidVersion: 0 })).cid).toBe(HELLO_V0)
      expect(await collect(store.cat(HELLO_V0))).toEqual(HELLO)
      expect(await collect(store.cat(HELLO_V1))).toEqual(HELLO)
    })

    it('reproduces Kubo CIDs for a multi-chunk file from disk, v1 and v0, with progress', async () => {
      const events: StorageProgressEvent[] = []
      const v1 = await store.add({ path: mb1Path }, { onProgress: (e) => events.push(e) })
      expect(v1).toEqual({ cid: MB1_V1, size: 1_000_000 })
      expect((await store.add({ path: mb1Path }, { cidVersion: 0 })).cid).toBe(MB1_V0)
      expect(events.length).toBeGreaterThan(1)
      expect(events.at(-1)).toMatchObject({ op: 'add', done: 1_000_000, total: 1_000_000 })
      for (let i = 1; i < events.length; i++) expect(events[i].done).toBeGreaterThanOrEqual(events[i - 1].done)
    })

    it('adds from an async stream with the same CID as from bytes', async () => {
      async function* chunks() {
        for (let off = 0; off < mb1.length; off += 65_536) yield mb1.subarray(off, off + 65_536)
      }
      expect((await store.add(chunks(), { size: mb1.length })).cid).toBe(MB1_V1)
      expect((await store.add(mb1)).cid).toBe(MB1_V1)
    })

    it('reads back whole files and byte windows across chunk boundaries', async () => {
      for (const cid of [MB1_V1, MB1_V0]) {
        expectSameBytes(await collect(store.cat(cid)), mb1)
        const windows: [number, number | undefined][] = [
          [0, 10],
          [262_140, 10],
          [262_143, 262_146],
          [999_990, undefined],
          [1_000_000, undefined],
          [5, 0],
        ]
        for (const [offset, length] of windows) {
          const got = await collect(store.cat(cid, { offset, length }))
          expectSameBytes(got, mb1.subarray(offset, length === undefined ? undefined : offset + length))
        }
      }
    })

    it('gets a file to disk with get progress', async () => {
      const out = join(dir, 'out.bin')
      const events: StorageProgressEvent[] = []
      const res = await store.get(MB1_V0, out, { onProgress: (e) => events.push(e) })
      expect(res.size).toBe(1_000_000)
      expectSameBytes(await readFile(out), mb1)
      expect(events.at(-1)).toMatchObject({ op: 'get', done: 1_000_000, total: 1_000_000 })
    })

    it('stats files', async () => {
      expect(await store.stat(MB1_V1)).toEqual({ cid: MB1_V1, type: 'file', size: 1_000_000 })
      expect(await store.stat(HELLO_V0)).toEqual({ cid: HELLO_V0, type: 'file', size: 12 })
      expect(await store.stat(HELLO_V1)).toEqual({ cid: HELLO_V1, type: 'file', size: 12 })
    })

    it('hands out verified blocks', async () => {
      const block = await store.getBlock(HELLO_V1)
      expect(Buffer.from(block)).toEqual(HELLO)
    })

    it('pins, lists, unpins, and garbage-collects unpinned content', async () => {
      const keep = await store.add(patternBytes(300_000, 7), { pin: true })
      const drop = await store.add(patternBytes(300_000, 11))
      expect((await store.pins()).map((p) => p.cid)).toContain(keep.cid)
      expect((await store.pins()).map((p) => p.cid)).not.toContain(drop.cid)
      await store.pin(MB1_V0)
      await store.pin(MB1_V1)
      await store.pin(HELLO_V1)
      await store.pin(HELLO_V0)
      const { removed } = await store.gc()
      expect(removed).toBeGreaterThan(0)
      expectSameBytes(await collect(store.cat(keep.cid)), patternBytes(300_000, 7))
      await expect(collect(store.cat(drop.cid))).rejects.toBeInstanceOf(BlockNotFoundError)
      await store.unpin(keep.cid)
      expect((await store.pins()).map((p) => p.cid)).not.toContain(keep.cid)
    })

    it('honours AbortSignal on add and read', async () => {
      const ac = new AbortController()
      ac.abort()
      await expect(store.add({ path: mb1Path }, { signal: ac.signal })).rejects.toThrow()
      await expect(collect(store.cat(MB1_V1, { signal: ac.signal }))).rejects.toThrow()
      const mid = new AbortController()
      let seen = 0
      const reading = collect(
        store.cat(MB1_V1, {
          signal: mid.signal,
          onProgress: (e) => {
            seen = e.done
            if (e.done > 0) mid.abort()
          },
        }),
      )
      await expect(reading).rejects.toThrow()
      expect(seen).toBeLessThan(1_000_000)
    })

    it('aborts an add midway: the call rejects and nothing is pinned', async () => {
      const before = (await store.pins()).length
      const ac = new AbortController()
      async function* slow() {
        for (let i = 0; i < 40; i++) {
          yield patternBytes(100_000, 1_000_000 + i * 100_000)
          if (i === 5) ac.abort()
        }
      }
      await expect(store.add(slow(), { pin: true, signal: ac.signal, size: 4_000_000 })).rejects.toThrow()
      expect((await store.pins()).length).toBe(before)
    })

    it('rejects malformed CIDs with a typed error', async () => {
      await expect(store.stat('not-a-cid')).rejects.toBeInstanceOf(InvalidCidError)
      await expect(collect(store.cat('Qm123'))).rejects.toBeInstanceOf(LatticeError)
    })
  })
}
