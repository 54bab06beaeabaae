import type { EmbeddedModelStoreOpts } from './embedded.ts'
import type { ModelStore } from './types.ts'

export interface ModelStoreOpts extends Omit<EmbeddedModelStoreOpts, 'repo'> {
  /** Kubo RPC API URL; when set, the external daemon is used instead of the embedded store. */
  ipfsApi?: string
}

/**
 * Open the model store for a data directory: the embedded store (default) or, with `ipfsApi`, a Kubo daemon.
 * Backends are imported on demand so that opening one never loads the other's libraries.
 */
export async function createModelStore(opts: ModelStoreOpts): Promise<ModelStore> {
  if (opts.ipfsApi) {
    const { createKuboModelStore } = await import('./kubo.ts')
    return createKuboModelStore({ url: opts.ipfsApi, prefetch: opts.prefetch })
  }
  const { createEmbeddedModelStore } = await import('./embedded.ts')
  return createEmbeddedModelStore(opts)
}
