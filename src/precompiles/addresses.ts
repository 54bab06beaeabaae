/** The inference precompile. */
export const INFERENCE_PRECOMPILE_ADDRESS = '0x0000000000000000000000000000000000000a11'
/** ModelRegistry, predeployed in genesis. */
export const MODEL_REGISTRY_ADDRESS = '0xa110000000000000000000000000000000000001'
/** InferenceVerifier (proofs issue). */
export const INFERENCE_VERIFIER_ADDRESS = '0xa110000000000000000000000000000000000002'
/** IPFSIncentives (pinning issue). */
export const IPFS_INCENTIVES_ADDRESS = '0xa110000000000000000000000000000000000003'
/** InferenceMarket (accelerated inference as bonded claims, issue 20). */
export const INFERENCE_MARKET_ADDRESS = '0xa110000000000000000000000000000000000004'
