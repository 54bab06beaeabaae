import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKuboModelStore } from '../../src/storage/kubo.ts'
import { modelStoreConformance } from './conformance.ts'
import { startKuboFixture } from './fixtures/kubo-fixture.ts'

modelStoreConformance('kubo (loopback fixture)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lattice-kubo-'))
  const fixture = await startKuboFixture({ dir })
  const store = await createKuboModelStore({ url: fixture.url })
  return {
    store,
    async cleanup() {
      await store.close()
      await fixture.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})
