// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice One inference record, as its leaf in the block's inference tree commits to it (docs/proofs.md).
/// @dev The one definition of the record: InferenceVerifier and LatticeInferenceLightVerifier take it, and the
///      node's leaf (src/proofs/merkle.ts) is `keccak256(abi.encode(record))`, so the field order is consensus
///      data. Import it with `import {Record} from "contracts/InferenceMerkle.sol";`.
struct Record {
    uint256 chainId; // the chain the inference ran on
    uint256 blockNumber; // the block that holds the transaction
    bytes32 txHash; // the transaction that called the precompile
    uint256 index; // position of the inference inside its transaction
    bytes32 modelId; // the registry id of the model
    bytes32 inputHash; // keccak256 of the ABI-encoded inputs
    bytes32 outputHash; // keccak256 of the ABI-encoded outputs
    uint256 flops; // the FLOPs the inference was charged for
}

/// @notice The inference tree's path rule (docs/proofs.md), shared by InferenceVerifier and the light verifier.
/// @dev A record's leaf is keccak256(abi.encode(record)).
library InferenceMerkle {
    /// @notice Fold a sorted-pair path from `leaf` (inner node = keccak256(0x01 || min || max)).
    /// @param leaf the leaf hash to start from
    /// @param proof the sibling hashes, leaf level first
    /// @return h the root the path leads to
    function processProof(bytes32 leaf, bytes32[] calldata proof) internal pure returns (bytes32 h) {
        h = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32 p = proof[i];
            assembly ("memory-safe") {
                let lo := h
                let hi := p
                if gt(h, p) {
                    lo := p
                    hi := h
                }
                let m := mload(0x40)
                mstore8(m, 0x01)
                mstore(add(m, 0x01), lo)
                mstore(add(m, 0x21), hi)
                h := keccak256(m, 0x41)
            }
        }
    }
}
