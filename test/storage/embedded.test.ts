import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedModelStore } from '../../src/storage/embedded.ts'
import { modelStoreConformance } from './conformance.ts'

modelStoreConformance('embedded', async () => {
  const datadir = await mkdtemp(join(tmpdir(), 'lattice-emb-'))
  const store = await createEmbeddedModelStore({ datadir })
  return {
    store,
    async cleanup() {
      await store.close()
      await rm(datadir, { recursive: true, force: true })
    },
  }
})
