/**
 * Gas schedule of the inference precompile (docs/gas.md). Every value is part of the consensus rules and
 * nothing here depends on cache state: a model loaded cold costs the same gas as a warm one.
 */
export const INFERENCE_GAS = {
  /** Charged on every call before anything is decoded. */
  base: 20_000n,
  /**
   * FLOPs bought by one gas. Calibrated with `npm run bench:gas` so that one gas of inference takes
   * about as long as one gas of ordinary EVM execution on the reference machine (see docs/gas.md).
   */
  flopsPerGas: 2_500n,
  /** Per started 32-byte word of input tensor data (decoding and copying; calldata is paid for separately). */
  perInputWord: 1n,
  /** Per started 32-byte word of output tensor data (sizes known from static shape inference). */
  perOutputWord: 1n,
  /** Charged per item of an inferBatch on top of one base. */
  perBatchItem: 2_000n,
  /** `estimate` costs only this. */
  estimate: 5_000n,
} as const

/** Hard limits on one call (also bounded by the EIP-7825 transaction gas cap). */
export const INFERENCE_LIMITS = {
  /** Largest calldata accepted, bytes. */
  maxCalldataBytes: 4 * 1024 * 1024,
  /** Most items in one inferBatch. */
  maxBatch: 256,
  /**
   * Largest total size of one call's outputs, bytes (fixed-point outputs count 32 bytes an element). Output
   * shapes are known before anything runs, so a call over it is refused before any allocation.
   */
  maxOutputBytes: 32 * 1024 * 1024,
} as const

/** Gas for a call with these FLOPs and byte counts. */
export function inferenceGas(flops: bigint, inBytes: number, outBytes: number, items = 1): bigint {
  const compute = (flops + INFERENCE_GAS.flopsPerGas - 1n) / INFERENCE_GAS.flopsPerGas
  return (
    INFERENCE_GAS.base +
    (items > 1 ? BigInt(items) * INFERENCE_GAS.perBatchItem : 0n) +
    compute +
    BigInt(Math.ceil(inBytes / 32)) * INFERENCE_GAS.perInputWord +
    BigInt(Math.ceil(outBytes / 32)) * INFERENCE_GAS.perOutputWord
  )
}
