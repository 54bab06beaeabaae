// CIDs must be Kubo's: checked against CIDs Kubo's documentation prints, against Debian's independent
// Rust `ipfs_cid` tool (package ipfs-cid) for multi-chunk files, and against a from-the-spec DAG builder.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importer } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importFile, verifyBlock } from '../../src/storage/dag.ts'
import { HashPool } from '../../src/storage/hash-pool.ts'
import { CHUNK_SIZE, importerOptions, MAX_CHILDREN_PER_NODE } from '../../src/storage/profile.ts'
import { command, describeWith } from '../helpers/requires.ts'
import { HELLO, HELLO_V0, HELLO_V1, MB1_V0, MB1_V1 } from './conformance.ts'
import { patternBytes, writePatternFile } from './fixtures/data.ts'

const nullSink = { put: async (cid: CID) => cid }
const cidOf = async (bytes: Uint8Array, cidVersion: 0 | 1) => (await importFile(nullSink, bytes, { cidVersion })).cid

/** Balanced Kubo DAG with raw leaves, written from the UnixFS spec (no importer code involved). */
function specRawLeavesCid(data: Uint8Array): string {
  const sha = (b: Uint8Array) => Digest.create(0x12, createHash('sha256').update(b).digest())
  type Node = { cid: CID; fileSize: number; tsize: number }
  let level: Node[] = []
  for (let off = 0; off < data.length || off === 0; off += CHUNK_SIZE) {
    const chunk = data.subarray(off, off + CHUNK_SIZE)
    level.push({ cid: CID.createV1(0x55, sha(chunk)), fileSize: chunk.length, tsize: chunk.length })
    if (data.length === 0) break
  }
  if (level.length === 1) return level[0].cid.toString()
  while (level.length > 1 || level[0].cid.code === 0x55) {
    const next: Node[] = []
    for (let i = 0; i < level.length; i += MAX_CHILDREN_PER_NODE) {
      const group = level.slice(i, i + MAX_CHILDREN_PER_NODE)
      const fs = new UnixFS({ type: 'file', blockSizes: group.map((g) => BigInt(g.fileSize)) })
      const bytes = dagPb.encode(
        dagPb.prepare({ Data: fs.marshal(), Links: group.map((g) => ({ Hash: g.cid, Name: '', Tsize: g.tsize })) }),
      )
      next.push({
        cid: CID.createV1(dagPb.code, sha(bytes)),
        fileSize: group.reduce((a, g) => a + g.fileSize, 0),
        tsize: bytes.length + group.reduce((a, g) => a + g.tsize, 0),
      })
    }
    level = next
  }
  return level[0].cid.toString()
}

describe('CIDs from Kubo documentation', () => {
  it('`echo "hello world" | ipfs add` (v0) and `--cid-version 1`', async () => {
    expect(await cidOf(HELLO, 0)).toBe(HELLO_V0)
    expect(await cidOf(HELLO, 1)).toBe(HELLO_V1)
  })
  it('the empty file', async () => {
    expect(await cidOf(new Uint8Array(0), 0)).toBe('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH')
    expect(await cidOf(new Uint8Array(0), 1)).toBe('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
  })
  it('`hello world` without a newline, v1', async () => {
    expect(await cidOf(Buffer.from('hello world'), 1)).toBe(
      'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
    )
  })
})

describeWith([command('ipfs_cid', 'ipfs-cid')], 'multi-chunk CIDs against independent implementations', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lattice-cid-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  // sizes: one byte, exactly one chunk, one byte over, four chunks, and > 174 chunks (two-level tree)
  const sizes = [1, CHUNK_SIZE, CHUNK_SIZE + 1, 1_000_000, 48 * 1024 * 1024 + 12_345]

  it.each(sizes)('matches Debian ipfs_cid (CIDv0) for %i bytes', async (size) => {
    const path = join(dir, `f${size}.bin`)
    await writePatternFile(path, size)
    const out = execFileSync('ipfs_cid', [path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
    const tool = JSON.parse(out.trim().split('\n')[0]) as { CIDv0: string; CIDv1: string }
    expect((await importFile(nullSink, { path }, { cidVersion: 0 })).cid).toBe(tool.CIDv0)
    // the tool's "CIDv1" is the same v0 DAG's root written as CIDv1, not Kubo's `--cid-version 1`
    // (which switches to raw leaves); raw-leaf v1 DAGs are checked against the spec builder below
    expect(CID.parse(tool.CIDv0).toV1().toString()).toBe(tool.CIDv1)
  })

  it('raw-leaf v1 CIDs match a DAG built from the UnixFS spec, one and two levels deep', async () => {
    for (const size of [CHUNK_SIZE + 1, 1_000_000, 48 * 1024 * 1024 + 12_345]) {
      const data = patternBytes(size)
      expect(await cidOf(data, 1)).toBe(specRawLeavesCid(data))
    }
    expect(specRawLeavesCid(patternBytes(1_000_000))).toBe(MB1_V1)
    expect(await cidOf(patternBytes(1_000_000), 0)).toBe(MB1_V0)
  })
})

describe('the streaming kubo-v1 importer equals ipfs-unixfs-importer', () => {
  // around every tree-shape boundary: empty, one chunk, 174 leaves (one full node), 175, 174*2+1
  const C = CHUNK_SIZE
  const sizes = [0, 1, C - 1, C, C + 1, 174 * C - 1, 174 * C, 174 * C + 1, 175 * C, 348 * C + 1]
  it.each(sizes)('%i bytes', async (size) => {
    const data = patternBytes(size, size)
    const ours = (await importFile(nullSink, data, { cidVersion: 1 })).cid
    let ref: CID | undefined
    for await (const e of importer([{ content: [data] }], nullSink, importerOptions(1))) ref = e.cid
    expect(ours).toBe(ref?.toString())
    // odd source chunking must not change the CID
    async function* odd() {
      for (let o = 0; o < size; o += 100_003) yield data.subarray(o, o + 100_003)
    }
    expect((await importFile(nullSink, odd(), { cidVersion: 1 })).cid).toBe(ours)
  })
})

describe('leaves hashed on worker threads give the same blocks', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lattice-cid-pool-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** A sink that keeps what it is given (so reused slot memory would show up as wrong bytes). */
  function keepingSink() {
    const blocks = new Map<string, Uint8Array>()
    const put = async (cid: CID, bytes: Uint8Array) => {
      blocks.set(cid.toString(), bytes)
      return cid
    }
    return { blocks, put }
  }

  const C = CHUNK_SIZE
  // from the pooled threshold (4 chunks) up, around one full node and a two-level tree
  const sizes = [4 * C - 1, 4 * C, 4 * C + 1, 174 * C, 174 * C + 1, 348 * C + 1]
  it.each(sizes)('%i bytes from a file, from chunks, on one and on three workers', async (size) => {
    const data = patternBytes(size, size + 1)
    const path = join(dir, `f${size}.bin`)
    await writeFile(path, data)
    const ref = keepingSink()
    let refCid: CID | undefined
    for await (const e of importer([{ content: [data] }], ref, importerOptions(1))) refCid = e.cid
    async function* odd() {
      for (let o = 0; o < size; o += 300_007) yield data.subarray(o, o + 300_007)
    }
    const three = new HashPool(3)
    const two = new HashPool(2)
    try {
      for (const [source, hashPool] of [
        [{ path }, undefined],
        [{ path }, three],
        [odd(), two],
      ] as const) {
        const sink = keepingSink()
        const res = await importFile(sink, source, { cidVersion: 1, hashPool })
        expect(res).toEqual({ cid: refCid?.toString(), size })
        expect([...sink.blocks.keys()].sort()).toEqual([...ref.blocks.keys()].sort())
        for (const [cid, bytes] of sink.blocks) verifyBlock(CID.parse(cid), bytes)
      }
    } finally {
      await three.close()
      await two.close()
    }
  })
})
