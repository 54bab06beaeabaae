// docs/rpc.md names every method the node serves (issue 14: it lacked 16). A method added to a namespace file
// without a line in the docs fails here.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDevnet } from '../helpers/devnet.ts'
import { startTestDevnet } from '../helpers/devnet.ts'

const DOCS = readFileSync(new URL('../../docs/rpc.md', import.meta.url), 'utf8')

describe('docs/rpc.md', () => {
  let devnet: TestDevnet
  beforeAll(async () => {
    devnet = await startTestDevnet()
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it('names every method a devnet serves', () => {
    expect(devnet.server.methods.length).toBeGreaterThan(100)
    const undocumented = devnet.server.methods.filter((m) => !DOCS.includes(`\`${m}\``))
    expect(undocumented).toEqual([])
  })

  it('names the methods only `lattice node` serves (testing API, peering)', () => {
    for (const m of ['testing_buildBlockV1', 'admin_nodeInfo', 'admin_peers', 'admin_addPeer', 'admin_removePeer'])
      expect(DOCS).toContain(`\`${m}\``)
  })
})
