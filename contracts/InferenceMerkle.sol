// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The inference tree's path rule (docs/proofs.md), shared by InferenceVerifier and the light verifier.
library InferenceMerkle {
    /// Fold a sorted-pair path from `leaf` (inner node = keccak256(0x01 || min || max)).
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
