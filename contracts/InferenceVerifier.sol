// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMerkle} from "./InferenceMerkle.sol";

/// @title InferenceVerifier
/// @notice Keeps the inference Merkle root of recent blocks and checks records against them (docs/proofs.md).
/// Predeployed at 0xA110000000000000000000000000000000000002. At the start of every block whose parent ran
/// inferences, the node makes a system call from 0xffff…fffe with calldata abi.encode(parentNumber, parentRoot)
/// (the way EIP-2935 stores block hashes). Roots live in a ring of RING_SIZE blocks; roots of blocks whose
/// number is a multiple of CHECKPOINT_INTERVAL are also kept for good.
contract InferenceVerifier {
    /// One inference record, as its leaf commits to it.
    struct Record {
        uint256 chainId;
        uint256 blockNumber;
        bytes32 txHash;
        uint256 index;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
        uint256 flops;
    }

    address public constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    uint256 public constant RING_SIZE = 8191;
    uint256 public constant CHECKPOINT_INTERVAL = 1024;

    /// ring slot => block number (plus one, so that an empty slot never matches block 0)
    mapping(uint256 => uint256) private _ringNumber;
    /// ring slot => inference root
    mapping(uint256 => bytes32) private _ringRoot;
    /// block number (a multiple of CHECKPOINT_INTERVAL) => inference root
    mapping(uint256 => bytes32) private _checkpoints;

    error NotSystem();

    /// The system call: 64 bytes abi.encode(uint256 blockNumber, bytes32 root), only from SYSTEM_ADDRESS.
    fallback() external {
        if (msg.sender != SYSTEM_ADDRESS) revert NotSystem();
        (uint256 number, bytes32 root) = abi.decode(msg.data, (uint256, bytes32));
        uint256 slot = number % RING_SIZE;
        _ringNumber[slot] = number + 1;
        _ringRoot[slot] = root;
        if (number % CHECKPOINT_INTERVAL == 0) _checkpoints[number] = root;
    }

    /// The inference root of `blockNumber`, or zero when it is not known (no inferences, or out of the ring).
    function rootOf(uint256 blockNumber) public view returns (bytes32) {
        uint256 slot = blockNumber % RING_SIZE;
        if (_ringNumber[slot] == blockNumber + 1) return _ringRoot[slot];
        return _checkpoints[blockNumber];
    }

    /// Whether `r` is one of the inferences of its block on this chain, by its Merkle path.
    function verifyInference(Record calldata r, bytes32[] calldata proof) external view returns (bool) {
        if (r.chainId != block.chainid) return false;
        bytes32 root = rootOf(r.blockNumber);
        if (root == bytes32(0)) return false;
        return processProof(keccak256(abi.encode(r)), proof) == root;
    }

    /// Fold a sorted-pair path from `leaf` (inner node = keccak256(0x01 || min || max)).
    function processProof(bytes32 leaf, bytes32[] calldata proof) public pure returns (bytes32) {
        return InferenceMerkle.processProof(leaf, proof);
    }
}
