import { LatticeError } from '../errors.ts'

/** A peer address that is not a dialable multiaddr ending in `/p2p/<peer id>`. */
export class InvalidPeerAddressError extends LatticeError {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(
      'P2P_INVALID_PEER_ADDRESS',
      `"${input}" is not a peer address (${reason}). Pass a multiaddr like /ip4/127.0.0.1/tcp/30303/p2p/12D3KooW...`,
    )
  }
}

/** The node key file exists but does not hold a libp2p private key. */
export class NodeKeyError extends LatticeError {
  constructor(
    readonly path: string,
    cause?: unknown,
  ) {
    super(
      'P2P_NODE_KEY',
      `${path} does not hold a node key. Delete it to have a new one made (the node's peer id changes).`,
      { cause },
    )
  }
}

/** Peering was asked for on a node whose store has no libp2p node (an external Kubo store). */
export class PeeringUnavailableError extends LatticeError {
  constructor(reason: string) {
    super('P2P_UNAVAILABLE', `Peering cannot start: ${reason}`)
  }
}

/** A message from a peer that does not decode, or is larger than the protocol allows. */
export class GossipMessageError extends LatticeError {
  constructor(
    readonly protocol: string,
    reason: string,
  ) {
    super('P2P_BAD_MESSAGE', `bad ${protocol} message: ${reason}`)
  }
}

/** A validator signature from a peer that does not check out (wrong signer, wrong root, unknown validator). */
export class AttestationRejectedError extends LatticeError {
  constructor(
    readonly blockHash: string,
    reason: string,
  ) {
    super('P2P_ATTESTATION_REJECTED', `attestation for block ${blockHash} rejected: ${reason}`)
  }
}
