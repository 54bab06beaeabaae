import { homedir } from 'node:os'
import { join } from 'node:path'

/** The devnet's data directory: `$LATTICE_DATADIR`, else `~/.lattice/devnet`. */
export function defaultDatadir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LATTICE_DATADIR
  return fromEnv && fromEnv.length > 0 ? fromEnv : join(homedir(), '.lattice', 'devnet')
}

/** Where a data directory keeps its embedded IPFS repo (blocks + datastore). */
export function ipfsRepoDir(datadir: string): string {
  return join(datadir, 'ipfs')
}

/** Where a data directory keeps materialised model files. */
export function modelCacheDir(datadir: string): string {
  return join(datadir, 'model-cache')
}

/** Where a data directory keeps the pinning manager's records. */
export function pinningStateFile(datadir: string): string {
  return join(datadir, 'storage', 'pinning.json')
}
