import { LatticeError } from '../errors.ts'

/** A CID string that does not parse. */
export class InvalidCidError extends LatticeError {
  constructor(
    readonly input: string,
    cause?: unknown,
  ) {
    super('STORAGE_INVALID_CID', `Invalid CID "${input}".`, { cause })
  }
}

/** An option value the storage module does not accept. */
export class InvalidStorageOptionError extends LatticeError {
  constructor(option: string, value: unknown, expected: string) {
    super('STORAGE_INVALID_OPTION', `Invalid ${option} ${JSON.stringify(value)}: expected ${expected}.`)
  }
}

/** A block that is neither in the local store nor obtainable from a configured source. */
export class BlockNotFoundError extends LatticeError {
  constructor(
    readonly cid: string,
    cause?: unknown,
  ) {
    super('STORAGE_BLOCK_NOT_FOUND', `Block ${cid} is not in the store and no source could provide it.`, { cause })
  }
}

/** A block whose bytes do not hash to its CID (bit rot, truncation, tampering). */
export class CorruptBlockError extends LatticeError {
  constructor(
    readonly cid: string,
    details?: string,
  ) {
    super('STORAGE_CORRUPT_BLOCK', `Block ${cid} is corrupt: its bytes do not hash to its CID.`, { details })
  }
}

/** A CID whose multihash this store cannot verify. */
export class UnsupportedHashError extends LatticeError {
  constructor(
    readonly cid: string,
    hashCode: number,
  ) {
    super(
      'STORAGE_UNSUPPORTED_HASH',
      `Cannot verify ${cid}: multihash code 0x${hashCode.toString(16)} is not supported.`,
    )
  }
}

/** A CID that does not point at a UnixFS file or raw block (e.g. a directory). */
export class NotAFileError extends LatticeError {
  constructor(
    readonly cid: string,
    type: string,
  ) {
    super('STORAGE_NOT_A_FILE', `${cid} is a ${type}, not a file.`)
  }
}

/** Reassembled content whose size or sha256 differs from what the manifest promises. */
export class ContentMismatchError extends LatticeError {
  constructor(what: string, expected: string, actual: string) {
    super('STORAGE_CONTENT_MISMATCH', `${what}: expected ${expected}, got ${actual}.`)
  }
}

/** A manifest that is not a valid Lattice model package manifest. */
export class ManifestInvalidError extends LatticeError {
  constructor(reason: string, cid?: string) {
    super('STORAGE_MANIFEST_INVALID', `Invalid model package manifest${cid ? ` ${cid}` : ''}: ${reason}.`)
  }
}

/** A package whose manifest digest is not the digest the caller (the registry) expects. */
export class PackageDigestMismatchError extends LatticeError {
  constructor(
    readonly cid: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('STORAGE_PACKAGE_DIGEST_MISMATCH', `Package ${cid} has digest ${actual}, expected ${expected}; refusing it.`)
  }
}

/** A directory or file list that cannot be packed into a model package. */
export class PackageSourceError extends LatticeError {
  constructor(reason: string) {
    super('STORAGE_PACKAGE_SOURCE', reason)
  }
}

/** The data directory's store is held open by another process (the devnet node, usually). */
export class StoreLockedError extends LatticeError {
  constructor(
    readonly path: string,
    cause?: unknown,
  ) {
    super(
      'STORAGE_STORE_LOCKED',
      `The IPFS store at ${path} is in use by another process (a running node?). Stop that node or use another --datadir (the \`lattice ipfs\` commands can instead talk to a running IPFS daemon with --ipfs-api URL).`,
      { cause },
    )
  }
}

/** The store was used after close(). */
export class StoreClosedError extends LatticeError {
  constructor() {
    super('STORAGE_STORE_CLOSED', 'The model store is closed.')
  }
}

/** A Kubo RPC call that failed (daemon error reply, dropped connection, unreachable daemon). */
export class KuboRequestError extends LatticeError {
  constructor(
    readonly endpoint: string,
    message: string,
    cause?: unknown,
  ) {
    super('STORAGE_KUBO_REQUEST', `Kubo RPC ${endpoint} failed: ${message}`, { cause })
  }
}

/** No Kubo RPC API answers at the given URL. */
export class KuboUnreachableError extends LatticeError {
  constructor(
    readonly url: string,
    cause?: unknown,
  ) {
    super(
      'STORAGE_KUBO_UNREACHABLE',
      `No IPFS (Kubo) RPC API answers at ${url}. Start the daemon (ipfs daemon) or pass the right --ipfs-api URL.`,
      { cause },
    )
  }
}

/** Networking was requested but could not be started. */
export class NetworkStartError extends LatticeError {
  constructor(reason: string, cause?: unknown) {
    super('STORAGE_NETWORK_START', `Could not start IPFS networking: ${reason}`, { cause })
  }
}

/** A pack file that cannot be opened or written (I/O failure, or a block this layout cannot index). */
export class PackStoreError extends LatticeError {
  constructor(
    readonly path: string,
    reason: string,
    cause?: unknown,
  ) {
    super('STORAGE_PACK', `Pack store ${path}: ${reason}.`, { cause })
  }
}

/** A hashing worker thread that failed or exited with jobs outstanding. */
export class HashWorkerError extends LatticeError {
  constructor(cause?: unknown) {
    super('STORAGE_HASH_WORKER', `A sha256 worker thread failed: ${String(cause)}.`, { cause })
  }
}
