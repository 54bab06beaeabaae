import type { ImporterOptions } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { InvalidStorageOptionError } from './errors.ts'
import type { CidVersion } from './types.ts'

/** Kubo's default chunk size (`--chunker=size-262144`). */
export const CHUNK_SIZE = 262_144
/** Kubo's balanced-layout fan-out (links per internal node). */
export const MAX_CHILDREN_PER_NODE = 174

/** Names of the pinned import profiles (recorded in package manifests). */
export type ImportProfileName = 'kubo-v1' | 'kubo-v0'

/** The import profile for a CID version: Kubo's `ipfs add` defaults (v1 = `--cid-version 1`). */
export function importProfileName(cidVersion: CidVersion): ImportProfileName {
  return cidVersion === 0 ? 'kubo-v0' : 'kubo-v1'
}

/**
 * Importer options that reproduce Kubo's CIDs. Spelled out rather than taken from @helia/unixfs,
 * whose defaults differ and silently override a `profile`.
 */
export function importerOptions(cidVersion: CidVersion): ImporterOptions {
  if (cidVersion !== 0 && cidVersion !== 1) {
    throw new InvalidStorageOptionError('cid version', cidVersion, '0 or 1')
  }
  return {
    cidVersion,
    rawLeaves: cidVersion === 1,
    reduceSingleLeafToSelf: true,
    leafType: 'file',
    chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: MAX_CHILDREN_PER_NODE }),
    wrapWithDirectory: false,
  }
}
