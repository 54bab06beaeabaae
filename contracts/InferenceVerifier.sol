// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {InferenceMerkle, Record} from "./InferenceMerkle.sol";

/// @title InferenceVerifier
/// @notice Keeps the inference Merkle root of recent blocks and checks records against them (docs/proofs.md).
/// Predeployed at 0xA110000000000000000000000000000000000002. At the start of every block whose parent ran
/// inferences, the node makes a system call from 0xffff…fffe with calldata abi.encode(parentNumber, parentRoot)
/// (the way EIP-2935 stores block hashes). Roots live in a ring of RING_SIZE blocks; roots of blocks whose
/// number is a multiple of CHECKPOINT_INTERVAL are also kept for good.
contract InferenceVerifier {
    /// @notice The only sender of the per-block system call that stores a root (as in EIP-2935).
    address public constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    /// @notice How many recent blocks' roots the ring holds.
    uint256 public constant RING_SIZE = 8191;
    /// @notice Roots of blocks whose number is a multiple of this are kept for good.
    uint256 public constant CHECKPOINT_INTERVAL = 1024;

    /// ring slot => block number (plus one, so that an empty slot never matches block 0)
    mapping(uint256 => uint256) private _ringNumber;
    /// ring slot => inference root
    mapping(uint256 => bytes32) private _ringRoot;
    /// block number (a multiple of CHECKPOINT_INTERVAL) => inference root
    mapping(uint256 => bytes32) private _checkpoints;

    /// @notice The fallback was called by someone other than SYSTEM_ADDRESS.
    error NotSystem();

    /// @notice The system call: 64 bytes abi.encode(uint256 blockNumber, bytes32 root), only from SYSTEM_ADDRESS.
    /// @dev Reverts NotSystem for any other sender. A later block with the same ring slot overwrites the entry.
    fallback() external {
        if (msg.sender != SYSTEM_ADDRESS) revert NotSystem();
        (uint256 number, bytes32 root) = abi.decode(msg.data, (uint256, bytes32));
        uint256 slot = number % RING_SIZE;
        _ringNumber[slot] = number + 1;
        _ringRoot[slot] = root;
        if (number % CHECKPOINT_INTERVAL == 0) _checkpoints[number] = root;
    }

    /// @notice The inference root of `blockNumber`, or zero when it is not known (no inferences, or out of the
    ///         ring and not a checkpoint).
    /// @param blockNumber the block whose root is asked for
    /// @return the block's inference root, or bytes32(0)
    function rootOf(uint256 blockNumber) public view returns (bytes32) {
        uint256 slot = blockNumber % RING_SIZE;
        if (_ringNumber[slot] == blockNumber + 1) return _ringRoot[slot];
        return _checkpoints[blockNumber];
    }

    /// @notice Whether `r` is one of the inferences of its block on this chain, by its Merkle path.
    /// @dev False (never a revert) for another chain's record or a block whose root is not known here.
    /// @param r the record, as `lattice_getInferenceProof` returns it
    /// @param proof the sibling hashes from the record's leaf to its block's root
    /// @return true when the path leads from keccak256(abi.encode(r)) to the stored root of r.blockNumber
    function verifyInference(Record calldata r, bytes32[] calldata proof) external view returns (bool) {
        if (r.chainId != block.chainid) return false;
        bytes32 root = rootOf(r.blockNumber);
        if (root == bytes32(0)) return false;
        return processProof(keccak256(abi.encode(r)), proof) == root;
    }

    /// @notice Fold a sorted-pair path from `leaf` (inner node = keccak256(0x01 || min || max)).
    /// @param leaf the leaf hash to start from
    /// @param proof the sibling hashes, leaf level first
    /// @return the root the path leads to
    function processProof(bytes32 leaf, bytes32[] calldata proof) public pure returns (bytes32) {
        return InferenceMerkle.processProof(leaf, proof);
    }
}
