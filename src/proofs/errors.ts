import { LatticeError } from '../errors.ts'

/** No inference record matches what was asked for (`lattice_getInferenceProof`, `lattice proof get`). */
export class InferenceRecordNotFoundError extends LatticeError {
  constructor(txHash: string, index?: number) {
    super(
      'INFERENCE_RECORD_NOT_FOUND',
      index === undefined
        ? `transaction ${txHash} has no inference record in the canonical chain`
        : `transaction ${txHash} has no inference record with index ${index}`,
    )
  }
}

/** A proof file or JSON value is not an inference proof. */
export class InvalidProofError extends LatticeError {
  constructor(message: string) {
    super('INVALID_PROOF', message)
  }
}

/** A key that cannot sign attestations (not 32 bytes of hex). */
export class InvalidSignerKeyError extends LatticeError {
  constructor() {
    super('INVALID_SIGNER_KEY', 'the validator key is not a 32-byte hex private key')
  }
}

/** The system call that writes an inference root into InferenceVerifier failed (a broken predeploy). */
export class InferenceRootSystemCallError extends LatticeError {
  constructor(blockNumber: bigint, reason: string) {
    super('INFERENCE_ROOT_SYSTEM_CALL', `writing the inference root of block ${blockNumber} failed: ${reason}`)
  }
}

/** A validator key whose address is not in the genesis validator set. */
export class NotAValidatorError extends LatticeError {
  constructor(address: string) {
    super(
      'NOT_A_VALIDATOR',
      `${address} is not in the genesis validator set (config.lattice.validators). Pass the key of a listed validator.`,
    )
  }
}
