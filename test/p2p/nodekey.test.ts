import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { NodeKeyError } from '../../src/p2p/errors.ts'
import { loadOrCreateNodeKey, nodeKeyPath } from '../../src/p2p/nodekey.ts'

describe('node key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-nodekey-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is made once (0600) and read back the same; two starts at once agree', async () => {
    const path = nodeKeyPath(join(dir, 'a'))
    const [k1, k2] = await Promise.all([loadOrCreateNodeKey(path), loadOrCreateNodeKey(path)])
    expect(k1.equals(k2)).toBe(true)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(k1.type).toBe('Ed25519')
    expect((await loadOrCreateNodeKey(path)).equals(k1)).toBe(true)
  })

  it('a file that holds no key is an error that says what to do, never silently replaced', async () => {
    const path = join(dir, 'bad')
    writeFileSync(path, 'not a key\n')
    await expect(loadOrCreateNodeKey(path)).rejects.toBeInstanceOf(NodeKeyError)
    writeFileSync(path, 'abcd\n')
    await expect(loadOrCreateNodeKey(path)).rejects.toThrow(/does not hold a node key. Delete it/)
  })
})
