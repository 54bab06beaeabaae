// lattice_getInferenceProof: an inference record with its Merkle path, the block's root and the validators'
// EIP-712 signatures of that root (docs/proofs.md).
import { bigIntToHex, bytesToHex, intToHex } from '@ethereumjs/util'
import { attestorFor, readAttestation } from '../chain/attestor.ts'
import { proofRecords } from '../chain/inference-roots.ts'
import type { LatticeNode } from '../chain/node.ts'
import { defaultThreshold } from '../proofs/attestation.ts'
import { InferenceRecordNotFoundError } from '../proofs/errors.ts'
import type { InferenceProofJson } from '../proofs/json.ts'
import { inferenceProof, inferenceRoot } from '../proofs/merkle.ts'
import { hash, paramList, quantity } from './codec.ts'
import type { Handlers } from './types.ts'

/** The proofs part of the lattice namespace. */
export function proofMethods(node: LatticeNode): Handlers {
  const chain = node.chain
  return {
    lattice_getValidators: async (p) => {
      paramList(p, 'lattice_getValidators', 0, 0)
      const validators = chain.spec.lattice.validators ?? []
      return {
        chainId: bigIntToHex(chain.chainId),
        validators,
        threshold: intToHex(defaultThreshold(validators.length)),
      }
    },
    lattice_getInferenceProof: async (p) => {
      const [txParam, indexParam] = paramList(p, 'lattice_getInferenceProof', 1, 2)
      const txHash = hash(txParam, 'txHash')
      const index = indexParam === undefined || indexParam === null ? undefined : Number(quantity(indexParam, 'index'))
      const txHex = bytesToHex(txHash)
      const loc = await chain.getTransaction(txHash)
      if (!loc) throw new InferenceRecordNotFoundError(txHex, index)
      const block = loc.block
      const stored = await chain.getInferenceRecords(block.hash())
      const records = proofRecords(chain.chainId, block.header.number, stored)
      const i = records.findIndex((r) => r.txHash === txHex && (index === undefined || r.index === index))
      if (i < 0) throw new InferenceRecordNotFoundError(txHex, index)
      const root = inferenceRoot(records)
      const attestation = (await attestorFor(chain)?.attest(block)) ?? (await readAttestation(chain, block.hash()))
      const r = records[i]
      const out: InferenceProofJson = {
        record: {
          chainId: bigIntToHex(r.chainId),
          blockNumber: bigIntToHex(r.blockNumber),
          txHash: r.txHash,
          index: intToHex(r.index),
          modelId: r.modelId,
          inputHash: r.inputHash,
          outputHash: r.outputHash,
          flops: bigIntToHex(r.flops),
        },
        proof: inferenceProof(records, i),
        root,
        blockNumber: bigIntToHex(block.header.number),
        blockHash: bytesToHex(block.hash()),
        signatures: attestation?.inferenceRoot === root ? attestation.signatures : [],
      }
      return out
    },
  }
}
