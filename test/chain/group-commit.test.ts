import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@ethereumjs/util'
import { afterEach, describe, expect, it } from 'vitest'
import { type ChainDatabases, LevelDB, openChainDatabases } from '../../src/chain/db.ts'

const dirs: string[] = []
const open: ChainDatabases[] = []
afterEach(async () => {
  for (const d of open.splice(0)) await d.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
async function databases(dir = mkdtempSync(join(tmpdir(), 'lattice-group-'))): Promise<ChainDatabases> {
  dirs.push(dir)
  const dbs = await openChainDatabases(dir)
  open.push(dbs)
  return dbs
}
const bytes = { keyEncoding: 'string', valueEncoding: 'view' } as const
const hex = (v: unknown) => (v instanceof Uint8Array ? bytesToHex(v) : v)
/** What LevelDB itself holds, past the staging area. */
const onDisk = (db: { sub: LevelDB['sub'] }, key: string) => new LevelDB(db.sub).get(key, bytes)

describe('GroupCommit', () => {
  it('keeps state writes staged until a flush, and serves them to readers meanwhile', async () => {
    const dbs = await databases()
    await dbs.state.put('node', new Uint8Array([1]), bytes)
    expect(hex(await dbs.state.get('node', bytes))).toBe('0x01')
    expect(await onDisk(dbs.state, 'node')).toBeUndefined()
    expect(dbs.group.pending).toBe(1)
    await dbs.state.del('node', bytes)
    expect(await dbs.state.get('node', bytes)).toBeUndefined()
    await dbs.state.put('node', new Uint8Array([2]), bytes)
    await dbs.group.flush()
    expect(hex(await onDisk(dbs.state, 'node'))).toBe('0x02')
    expect(dbs.group.pending).toBe(0)
    // landed writes fill the read cache
    expect(hex(dbs.state.cache!.lookup('node'))).toBe('0x02')
  })

  it('lands a block or meta write (a pointer) before it returns, with the state staged before it', async () => {
    const dbs = await databases()
    await dbs.state.put('node', new Uint8Array([7]), bytes)
    await dbs.blocks.put('head', new Uint8Array([9]), bytes)
    expect(hex(await onDisk(dbs.blocks, 'head'))).toBe('0x09')
    expect(hex(await onDisk(dbs.state, 'node'))).toBe('0x07')
    await dbs.meta.put('m', new Uint8Array([3]))
    expect(hex(await onDisk(dbs.meta, 'm'))).toBe('0x03')
    expect(dbs.group.stats.forced).toBe(2)
  })

  it('leaves pointer writes staged while `deferred` runs, and lands them again once it is over', async () => {
    const dbs = await databases()
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const mined = dbs.group.deferred(async () => {
      await dbs.blocks.put('head', new Uint8Array([1]), bytes)
      await gate
      await dbs.meta.put('receipt', new Uint8Array([2]))
    })
    await new Promise((r) => setTimeout(r, 10))
    expect(await onDisk(dbs.blocks, 'head')).toBeUndefined()
    // a write made in that window (under the chain lock, every writer of blocks and meta is the block's commit)
    // waits for the group commit too
    await dbs.meta.put('window', new Uint8Array([3]))
    expect(await onDisk(dbs.meta, 'window')).toBeUndefined()
    release()
    await mined
    expect(await onDisk(dbs.meta, 'receipt')).toBeUndefined()
    expect(hex(await dbs.meta.get('receipt'))).toBe('0x02')
    // after the window, a pointer write lands with everything staged before it
    await dbs.meta.put('later', new Uint8Array([4]))
    for (const k of ['receipt', 'window', 'later']) expect(await onDisk(dbs.meta, k)).toBeInstanceOf(Uint8Array)
    expect(hex(await onDisk(dbs.blocks, 'head'))).toBe('0x01')
  })

  it('reads back a staged value in the encoding it is asked for (JSON heads, utf8 index entries)', async () => {
    const dbs = await databases()
    await dbs.group.deferred(async () => {
      await dbs.blocks.put('heads', { a: '0x01' } as never, { keyEncoding: 'string', valueEncoding: 'json' })
      await dbs.meta.batch([{ type: 'put', key: 'R/o/1', value: 'model', keyEncoding: 'utf8', valueEncoding: 'utf8' }])
    })
    expect(await dbs.blocks.get('heads', { keyEncoding: 'string', valueEncoding: 'json' })).toEqual({ a: '0x01' })
    expect(await dbs.meta.get('R/o/1', { keyEncoding: 'utf8', valueEncoding: 'utf8' } as never)).toBe('model')
    // an iterator flushes first, so it sees staged entries
    const it = dbs.meta.iterator({ gte: 'R/o/', lt: 'R/o0', keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const seen: unknown[] = []
    for await (const e of it) seen.push(e)
    await it.close()
    expect(seen).toEqual([['R/o/1', 'model']])
  })

  it('flushes on close: a reopened database has every staged write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lattice-group-'))
    const dbs = await openChainDatabases(dir)
    await dbs.group.deferred(() => dbs.blocks.put('head', new Uint8Array([5]), bytes))
    await dbs.state.put('node', new Uint8Array([6]), bytes)
    await dbs.close()
    const again = await databases(dir)
    expect(hex(await again.blocks.get('head', bytes))).toBe('0x05')
    expect(hex(await again.state.get('node', bytes))).toBe('0x06')
  })
})
