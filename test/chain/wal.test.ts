import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BlockWal } from '../../src/chain/wal.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function walDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lattice-wal-'))
  dirs.push(d)
  return join(d, 'wal')
}
const rec = (n: number, len = 50) => Uint8Array.from({ length: len }, (_, i) => (n * 31 + i) & 0xff)
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.log'))

describe('BlockWal', () => {
  it('reads back what was appended, in order, across reopenings', async () => {
    const dir = walDir()
    const { wal, records } = await BlockWal.open({ dir })
    expect(records).toEqual([])
    for (let i = 0; i < 3; i++) wal.append(rec(i))
    wal.close()
    const again = await BlockWal.open({ dir })
    expect(again.records).toEqual([rec(0), rec(1), rec(2)])
    again.wal.append(rec(3))
    again.wal.close()
    expect((await BlockWal.open({ dir })).records).toEqual([rec(0), rec(1), rec(2), rec(3)])
    expect(wal.stats.appends).toBe(3)
  })

  it('drops a torn last record and cuts the file back, so later appends follow the good ones', async () => {
    const dir = walDir()
    const { wal } = await BlockWal.open({ dir })
    wal.append(rec(0))
    wal.append(rec(1, 300))
    wal.close()
    const [name] = segments(dir)
    const path = join(dir, name)
    const whole = statSync(path).size
    // a crash in the middle of the second record's bytes
    writeFileSync(path, readFileSync(path).subarray(0, whole - 100))
    const reopened = await BlockWal.open({ dir })
    expect(reopened.records).toEqual([rec(0)])
    expect(statSync(path).size).toBe(8 + 50)
    reopened.wal.append(rec(2))
    reopened.wal.close()
    expect((await BlockWal.open({ dir })).records).toEqual([rec(0), rec(2)])
  })

  it('stops at a record whose checksum does not match, and deletes later segments', async () => {
    const dir = walDir()
    const { wal } = await BlockWal.open({ dir })
    wal.append(rec(0))
    wal.append(rec(1))
    wal.rotate() // later appends go to a second segment
    wal.append(rec(2))
    wal.close()
    const [first] = segments(dir).sort()
    const bytes = readFileSync(join(dir, first))
    bytes[8 + 50 + 8 + 3] ^= 0xff // a bit flip inside the second record's payload
    writeFileSync(join(dir, first), bytes)
    const reopened = await BlockWal.open({ dir })
    expect(reopened.records).toEqual([rec(0)])
    expect(segments(dir)).toEqual([first])
  })

  it('rotate hands over every segment written so far; drop deletes them; restore gives them back', async () => {
    const dir = walDir()
    const { wal } = await BlockWal.open({ dir })
    expect(wal.isEmpty).toBe(true)
    wal.append(rec(0))
    const a = wal.rotate()
    wal.append(rec(1))
    expect(segments(dir)).toHaveLength(2)
    wal.restore(a)
    const both = wal.rotate()
    expect(both.map((s) => s.path)).toEqual([a[0].path, expect.stringMatching(/\.log$/)])
    await wal.drop(both)
    expect(segments(dir)).toEqual([])
    expect(wal.isEmpty).toBe(true)
    expect((await BlockWal.open({ dir })).records).toEqual([])
  })

  it('ignores garbage appended after a record only as far as the garbage goes', async () => {
    const dir = walDir()
    const { wal } = await BlockWal.open({ dir })
    wal.append(rec(0))
    wal.close()
    appendFileSync(join(dir, segments(dir)[0]), Buffer.from([1, 2, 3]))
    expect((await BlockWal.open({ dir })).records).toEqual([rec(0)])
  })
})
