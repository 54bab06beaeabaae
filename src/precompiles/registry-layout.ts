/**
 * Storage layout of contracts/ModelRegistry.sol that the precompile reads directly. Part of the
 * consensus rules: test/chain/contracts.test.ts checks it against solc's storageLayout.
 */
export const REGISTRY_LAYOUT = {
  /** `mapping(bytes32 => Model) _models` */
  modelsSlot: 0n,
  /** `mapping(bytes32 => mapping(address => bool)) _allowed` */
  allowedSlot: 1n,
  /** `mapping(bytes32 => address) _digestOwner`: who may register entries with a package digest */
  digestOwnerSlot: 5n,
  /** `mapping(bytes32 => address) _cidOwner`, keyed by keccak256(bytes(cid)) */
  cidOwnerSlot: 6n,
  /** Offsets of Model fields from the struct's base slot. */
  model: {
    /** owner (bytes 0..19, lowest-order), status (byte 20), policy (byte 21) */
    ownerStatusPolicy: 0n,
    digest: 1n,
    commitment: 2n,
    price: 3n,
    inferences: 4n,
    previous: 5n,
    name: 6n,
    version: 7n,
    cid: 8n,
    format: 9n,
    io: 10n,
  },
} as const

export const ModelStatus = { none: 0, active: 1, deprecated: 2 } as const
export const AccessPolicy = { public: 0, private: 1, allowlist: 2 } as const
